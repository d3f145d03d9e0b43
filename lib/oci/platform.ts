// Platforms: parse `os/arch[/variant]`, normalise Docker's aliases and rank compatible platforms.
import { LkvolError } from '../errors.js';

/** A normalised platform: lowercase, canonical architecture, no variant where it is the default. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string | undefined;
}

/** Architecture aliases and the variant they imply (containerd/platforms `database.go`). */
const archAliases: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
  i686: { architecture: '386' },
};

/** Architectures a bare `--platform ARCH` may name (Go's GOARCH values images use), besides the aliases above. */
const bareArchitectures = new Set([
  'amd64',
  'arm64',
  'arm',
  '386',
  'ppc64le',
  'ppc64',
  's390x',
  'riscv64',
  'mips64le',
  'loong64',
]);

const osPattern = /^[a-z0-9]+$/;
const archPattern = /^[a-z0-9_]+$/;
const variantPattern = /^v?[0-9a-z.]+$/;

/**
 * Parses `os/arch[/variant]` and normalises it: `aarch64`→`arm64`, `arm64/v8`→`arm64`, `x86_64`→`amd64`,
 * `armhf`→`arm/v7`, `arm`→`arm/v7`, `amd64/v1`→`amd64`.
 * @throws LKVOL_USAGE when the string is not a platform.
 */
export function parsePlatform(input: string): Platform {
  const given = input.trim().toLowerCase().split('/');
  // A bare architecture (`arm64`, `aarch64`, `x86_64`), as LinuxKit's --arch takes it, means Linux.
  const parts =
    given.length === 1 && (bareArchitectures.has(given[0]!) || given[0]! in archAliases) ? ['linux', ...given] : given;
  const [os, architecture, variant] = parts;
  const bad = (why: string) =>
    new LkvolError('LKVOL_USAGE', `invalid platform ${JSON.stringify(input)}: ${why}`, {
      hint: 'write it as os/arch[/variant] (e.g. linux/amd64, linux/arm/v7) or a bare architecture (arm64)',
    });
  if (parts.length < 2 || parts.length > 3 || os === undefined || architecture === undefined)
    throw bad('want os/arch[/variant] or a known architecture');
  if (!osPattern.test(os)) throw bad(`os ${JSON.stringify(os)} must match [a-z0-9]+`);
  if (!archPattern.test(architecture)) throw bad(`architecture ${JSON.stringify(architecture)} must match [a-z0-9_]+`);
  if (variant !== undefined && !variantPattern.test(variant))
    throw bad(`variant ${JSON.stringify(variant)} must match v?[0-9a-z.]+`);
  return normalizePlatform({ os, architecture, variant });
}

/** Normalises a platform read from an index or config (never throws; unknown values pass through lowercased). */
export function normalizePlatform(p: { os: string; architecture: string; variant?: string | undefined }): Platform {
  const os = p.os.toLowerCase();
  const alias = archAliases[p.architecture.toLowerCase()];
  const architecture = alias?.architecture ?? p.architecture.toLowerCase();
  const given = p.variant === undefined || p.variant === '' ? alias?.variant : p.variant.toLowerCase();
  const variant = normalizeVariant(architecture, given);
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

function normalizeVariant(architecture: string, variant: string | undefined): string | undefined {
  const v = variant !== undefined && /^\d/.test(variant) ? `v${variant}` : variant;
  switch (architecture) {
    case 'arm64':
      return v === 'v8' || v === 'v8.0' ? undefined : v;
    case 'arm':
      return v ?? 'v7';
    case 'amd64':
      return v === 'v1' ? undefined : v;
    default:
      return v;
  }
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: Platform): string {
  return p.variant === undefined ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}

/** True when both name the same normalised platform. */
export function isSamePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
}

/**
 * True when `have` is `want`, or any variant of its os/arch when `want` names no variant: what a
 * `platforms:` entry of a `format: oci` volume keeps (`linux/arm` keeps `arm/v6` and `arm/v7`).
 */
export function matchesPlatform(want: Platform, have: Platform): boolean {
  if (want.variant !== undefined) return isSamePlatform(want, have);
  return want.os === have.os && want.architecture === have.architecture;
}

/**
 * How well `have` serves `want`: 0 is an exact match, larger is a worse but compatible match
 * (an older variant of the same architecture: `arm/v7` runs `arm/v6`, `amd64/v3` runs `amd64`),
 * undefined is incompatible. Both must be normalised.
 */
export function rankPlatform(want: Platform, have: Platform): number | undefined {
  if (want.os !== have.os || want.architecture !== have.architecture) return undefined;
  if (want.variant === have.variant) return 0;
  const w = variantLevel(want);
  const h = variantLevel(have);
  if (w === undefined || h === undefined || h > w) return undefined;
  return Math.round((w - h) * 10);
}

/** A comparable number for the variant of a family whose variants are ordered, else undefined. */
function variantLevel(p: Platform): number | undefined {
  const defaults: Record<string, number> = { amd64: 1, arm64: 8 };
  if (!['amd64', 'arm', 'arm64'].includes(p.architecture)) return undefined;
  if (p.variant === undefined) return defaults[p.architecture];
  const m = /^v(\d+(?:\.\d+)?)$/.exec(p.variant);
  return m === null ? undefined : Number(m[1]);
}

/** `linux/<arch>` for a Node `process.arch` value, with OCI architecture names. */
export function hostPlatform(nodeArch: string): string {
  const arch: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm: 'arm/v7',
    arm64: 'arm64',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    loong64: 'loong64',
  };
  return `linux/${arch[nodeArch] ?? nodeArch}`;
}
