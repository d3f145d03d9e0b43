// Test helper: plausible image configs for the images the corpus uses that no LinuxKit Dockerfile describes.
import { defaultPath, type ImageRunConfig } from './dockerfile.js';

/**
 * Configs by repository (as normalised: `library/nginx`), modelled on the official images' Dockerfiles
 * of the versions the systems name, reduced to what a runtime spec uses. Anything not listed gets
 * {@link fallbackConfig}.
 */
const byRepository: Readonly<Record<string, ImageRunConfig>> = {
  'library/alpine': { Cmd: ['/bin/sh'], Env: [defaultPath] },
  'library/busybox': { Cmd: ['sh'], Env: [defaultPath] },
  'library/docker': {
    Entrypoint: ['dockerd-entrypoint.sh'],
    Env: [defaultPath, 'DOCKER_VERSION=20.10.6', 'DOCKER_TLS_CERTDIR=/certs'],
  },
  'library/nginx': {
    Entrypoint: ['/docker-entrypoint.sh'],
    Cmd: ['nginx', '-g', 'daemon off;'],
    Env: [defaultPath, 'NGINX_VERSION=1.13.8'],
  },
  'library/redis': {
    Entrypoint: ['docker-entrypoint.sh'],
    Cmd: ['redis-server'],
    Env: [defaultPath],
    WorkingDir: '/data',
  },
  'library/influxdb': { Entrypoint: ['/entrypoint.sh'], Cmd: ['influxd'], Env: [defaultPath, 'INFLUXDB_VERSION=1.7'] },
  'library/chronograf': {
    Entrypoint: ['/entrypoint.sh'],
    Cmd: ['chronograf'],
    Env: [defaultPath, 'CHRONOGRAF_VERSION=1.7'],
  },
  'library/kapacitor': {
    Entrypoint: ['/entrypoint.sh'],
    Cmd: ['kapacitord'],
    Env: [defaultPath, 'KAPACITOR_VERSION=1.5'],
  },
  'library/telegraf': { Entrypoint: ['/entrypoint.sh'], Cmd: ['telegraf'], Env: [defaultPath, 'TELEGRAF_VERSION=1.9'] },
  // Built from kernel/common/Dockerfile, which has no build.yml: FROM scratch, files only.
  'linuxkit/kernel': { Env: [defaultPath], WorkingDir: '/' },
};

/** An image about which nothing is known: a shell, as most base images default to. */
export const fallbackConfig: ImageRunConfig = { Cmd: ['/bin/sh'], Env: [defaultPath] };

/** The plain config of `repository` (Docker Hub path, `library/` for official images). */
export function plainConfig(repository: string): ImageRunConfig {
  return byRepository[repository] ?? fallbackConfig;
}
