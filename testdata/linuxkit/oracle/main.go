// Command lkvol-oracle computes, with LinuxKit's own Go code, what
// `linuxkit build` / `linuxkit pkg build` would produce for given inputs, so
// lkvol's test suite can compare itself against it. See README.md.
//
// This file is lkvol's own code. It is compiled *inside* a temporary copy of
// LinuxKit's src/cmd/linuxkit module by build.sh, so it can import LinuxKit's
// packages (moby, moby/build) and their vendored dependencies. A few lines of
// LinuxKit glue that are not reachable as exported functions are re-implemented
// here; each such place cites the LinuxKit file:line (commit 3bf33c3a1).
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/containerd/containerd/v2/pkg/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/linuxkit/linuxkit/src/cmd/linuxkit/moby"
	mobybuild "github.com/linuxkit/linuxkit/src/cmd/linuxkit/moby/build"
	"github.com/linuxkit/linuxkit/src/cmd/linuxkit/util"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	log "github.com/sirupsen/logrus"
	"gopkg.in/yaml.v3"
)

// set by build.sh via -ldflags "-X main.linuxkitCommit=..."
var linuxkitCommit = "unknown"

func usage() {
	fmt.Fprintf(os.Stderr, `usage:
  lkvol-oracle labels --linuxkit DIR --out FILE
  lkvol-oracle specs  --systems DIR --builds FILE --images FILE --out DIR
`)
	os.Exit(2)
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "lkvol-oracle: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	// LinuxKit logs progress with logrus; keep our stdout/stderr clean.
	log.SetOutput(io.Discard)
	log.SetLevel(log.PanicLevel)

	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "labels":
		fs := flag.NewFlagSet("labels", flag.ExitOnError)
		lk := fs.String("linuxkit", "", "LinuxKit source tree")
		out := fs.String("out", "", "output JSON file")
		_ = fs.Parse(os.Args[2:])
		if *lk == "" || *out == "" {
			usage()
		}
		if err := runLabels(*lk, *out); err != nil {
			fatalf("%v", err)
		}
	case "specs":
		fs := flag.NewFlagSet("specs", flag.ExitOnError)
		systems := fs.String("systems", "", "directory the build file paths are relative to")
		builds := fs.String("builds", "", "JSON array of {id, files}")
		images := fs.String("images", "", "JSON {images: {ref: {config: OCI image config}}}")
		out := fs.String("out", "", "output directory")
		_ = fs.Parse(os.Args[2:])
		if *systems == "" || *builds == "" || *images == "" || *out == "" {
			usage()
		}
		if err := runSpecs(*systems, *builds, *images, *out); err != nil {
			fatalf("%v", err)
		}
	default:
		usage()
	}
}

func writeJSON(file string, v interface{}) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}

// ---------------------------------------------------------------------------
// labels

// pkgInfo mirrors the field set of LinuxKit's unexported pkglib.pkgInfo
// (src/cmd/linuxkit/pkglib/pkglib.go:19-40) so that decoding build.yml with
// KnownFields(true) accepts/refuses exactly the same keys. The `config:` field
// has LinuxKit's own type, moby.ImageConfig, which is what determines the label.
// (pkglib itself cannot be imported: it pulls golang.org/x/net/http2, which
// needs Go 1.24's net/http.)
type pkgInfo struct {
	Image        string            `yaml:"image"`
	Org          string            `yaml:"org"`
	Tag          string            `yaml:"tag,omitempty"`
	Dockerfile   string            `yaml:"dockerfile"`
	Arches       []string          `yaml:"arches"`
	ExtraSources []string          `yaml:"extra-sources"`
	GitRepo      string            `yaml:"gitrepo"`
	Network      bool              `yaml:"network"`
	DisableCache bool              `yaml:"disable-cache"`
	Config       *moby.ImageConfig `yaml:"config"`
	BuildArgs    *[]string         `yaml:"buildArgs,omitempty"`
	Depends      struct {
		DockerImages struct {
			TargetDir string   `yaml:"target-dir"`
			Target    string   `yaml:"target"`
			FromFile  string   `yaml:"from-file"`
			List      []string `yaml:"list"`
		} `yaml:"docker-images"`
	} `yaml:"depends"`
}

type labelEntry struct {
	Image string `json:"image"`
	Label string `json:"label,omitempty"`
	Error string `json:"error,omitempty"`
}

func runLabels(lk, out string) error {
	var files []string
	for _, pat := range []string{"pkg/*/build.yml", "test/pkg/*/build.yml", "tools/*/build.yml"} {
		m, err := filepath.Glob(filepath.Join(lk, pat))
		if err != nil {
			return err
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	labels := map[string]labelEntry{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(lk, filepath.Dir(f))
		rel = filepath.ToSlash(rel)
		// defaults from pkglib.NewPkgInfo (pkglib.go:60-70); only Org matters here
		pi := pkgInfo{Org: "linuxkit", Arches: []string{"amd64", "arm64", "riscv64"}, Tag: "{{.Hash}}",
			GitRepo: "https://github.com/linuxkit/linuxkit", Dockerfile: "Dockerfile"}
		// pkglib.go:159-163: strict decode of build.yml
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&pi); err != nil {
			// we cannot tell whether it has a config section; report it
			labels[rel] = labelEntry{Error: err.Error()}
			fmt.Fprintf(os.Stderr, "lkvol-oracle: warning: %s: %v\n", f, err)
			continue
		}
		if pi.Config == nil {
			continue
		}
		// pkglib/build.go:420-425: json.Marshal(*p.config) -> org.mobyproject.config
		lb, err := json.Marshal(*pi.Config)
		if err != nil {
			labels[rel] = labelEntry{Image: pi.Org + "/" + pi.Image, Error: err.Error()}
			continue
		}
		// pkglib.go:335-337: Image() is org + "/" + image
		labels[rel] = labelEntry{Image: pi.Org + "/" + pi.Image, Label: string(lb)}
	}
	return writeJSON(out, map[string]interface{}{
		"linuxkitCommit": linuxkitCommit,
		"labels":         labels,
	})
}

// ---------------------------------------------------------------------------
// specs

type buildInput struct {
	ID    string   `json:"id"`
	Files []string `json:"files"`
}

type imagesInput struct {
	Images map[string]struct {
		Config *imagespec.ImageConfig `json:"config"`
	} `json:"images"`
}

type containerOut struct {
	Section  string          `json:"section"`
	Index    int             `json:"index"`
	Name     string          `json:"name"`
	Image    string          `json:"image"`
	Dir      string          `json:"dir"`
	Config   json.RawMessage `json:"config"`
	Runtime  json.RawMessage `json:"runtime"`
	Readonly bool            `json:"readonly"`
}

type volumeOut struct {
	Name      string   `json:"name"`
	Image     string   `json:"image,omitempty"`
	ReadOnly  bool     `json:"readonly"`
	Format    string   `json:"format,omitempty"`
	Platforms []string `json:"platforms,omitempty"`
	BaseDir   string   `json:"baseDir"`
	LowerDir  string   `json:"lowerDir"`
	TmpDir    string   `json:"tmpDir"`
	MergedDir string   `json:"mergedDir"`
	// whether m.VolByName finds it in the merged config, i.e. whether binds /
	// mounts can reference it (AppendConfig keeps only the last file's
	// volume map: moby/config.go:442-445)
	Resolvable bool `json:"resolvable"`
}

type buildOut struct {
	ID    string   `json:"id"`
	Files []string `json:"files"`
	OK    bool     `json:"ok"`
	Error string   `json:"error,omitempty"`
	// text LinuxKit printed to stdout while processing (schema validation
	// details: "The configuration file is invalid:\n- ...")
	Stdout     string         `json:"stdout,omitempty"`
	Volumes    []volumeOut    `json:"volumes,omitempty"`
	Containers []containerOut `json:"containers,omitempty"`
	// error of the files: section (moby/build/build.go:393-396 filesystem()),
	// which LinuxKit processes after all containers. Informational: `source:`
	// paths are resolved relative to the current directory, which the oracle
	// sets to the directory of the last file of the build.
	FilesError string `json:"filesError,omitempty"`
}

// oracleError is a problem with the oracle's inputs (not a LinuxKit refusal).
type oracleError struct{ msg string }

func (e oracleError) Error() string { return e.msg }

func runSpecs(systems, buildsFile, imagesFile, outDir string) error {
	var builds []buildInput
	b, err := os.ReadFile(buildsFile)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &builds); err != nil {
		return fmt.Errorf("%s: %v", buildsFile, err)
	}
	var images imagesInput
	b, err = os.ReadFile(imagesFile)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &images); err != nil {
		return fmt.Errorf("%s: %v", imagesFile, err)
	}
	absSystems, err := filepath.Abs(systems)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	var failures []string
	for _, bi := range builds {
		res, err := runBuild(absSystems, bi, &images)
		if err != nil {
			var oe oracleError
			if errors.As(err, &oe) {
				failures = append(failures, fmt.Sprintf("%s: %v", bi.ID, err))
				continue
			}
			return err
		}
		name := strings.ReplaceAll(bi.ID, "/", "__") + ".json"
		if err := writeJSON(filepath.Join(outDir, name), res); err != nil {
			return err
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("oracle input errors (no output written for these builds):\n  %s", strings.Join(failures, "\n  "))
	}
	return nil
}

func runBuild(systems string, bi buildInput, images *imagesInput) (res *buildOut, err error) {
	res = &buildOut{ID: bi.ID, Files: bi.Files}
	if res.Files == nil {
		res.Files = []string{}
	}
	// moby.NewConfig / moby.NewImage print schema errors with fmt.Printf:
	// capture os.Stdout while LinuxKit code runs.
	var inner error
	r, w, perr := os.Pipe()
	if perr != nil {
		return nil, perr
	}
	saved := os.Stdout
	os.Stdout = w
	var buf bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = io.Copy(&buf, r) }()
	func() {
		defer func() {
			if p := recover(); p != nil {
				inner = fmt.Errorf("panic: %v", p)
			}
		}()
		inner = doBuild(systems, bi, images, res)
	}()
	os.Stdout = saved
	_ = w.Close()
	wg.Wait()
	_ = r.Close()
	res.Stdout = sortSchemaErrors(buf.String())
	if inner != nil {
		var oe oracleError
		if errors.As(inner, &oe) {
			return nil, inner
		}
		res.OK = false
		res.Error = inner.Error()
		res.Containers = nil
		res.FilesError = ""
		return res, nil
	}
	res.OK = true
	if res.Containers == nil {
		res.Containers = []containerOut{}
	}
	return res, nil
}

// sortSchemaErrors sorts each run of "- ..." lines. LinuxKit prints schema
// errors in gojsonschema's order, which follows Go map iteration and is
// therefore random from run to run; sorting makes the oracle deterministic.
func sortSchemaErrors(s string) string {
	if s == "" {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i := 0; i < len(lines); {
		if !strings.HasPrefix(lines[i], "- ") {
			i++
			continue
		}
		j := i
		for j < len(lines) && strings.HasPrefix(lines[j], "- ") && strings.HasSuffix(lines[j], "\n") {
			j++
		}
		if j == i {
			i++
			continue
		}
		sort.Strings(lines[i:j])
		i = j
	}
	return strings.Join(lines, "")
}

// packageResolver mirrors createPackageResolver
// (src/cmd/linuxkit/buildtemplate.go:17-47), which `linuxkit build` passes to
// moby.NewConfig for local files (src/cmd/linuxkit/build.go:186-189): strings
// not starting with "@" are returned unchanged; "@pkg:PATH" is resolved to a
// package tag computed from git (not supported by the oracle); any other "@..."
// string resolves to "" (the switch has no default case).
func packageResolver(unsupported *[]string) func(string) (string, error) {
	return func(s string) (string, error) {
		switch {
		case len(s) == 0, s[0:1] != "@":
			return s, nil
		case strings.HasPrefix(s, "@pkg:"):
			*unsupported = append(*unsupported, s)
			return "", fmt.Errorf("unsupported")
		}
		return "", nil
	}
}

// tarCapture implements moby/build's tarWriter interface (image.go:19-24) and
// keeps the contents of regular files written through it.
type tarCapture struct {
	files map[string]*bytes.Buffer
	cur   *bytes.Buffer
}

func (t *tarCapture) Close() error { return nil }
func (t *tarCapture) Flush() error { return nil }
func (t *tarCapture) WriteHeader(h *tar.Header) error {
	t.cur = nil
	if h.Typeflag == tar.TypeReg || h.Typeflag == 0 {
		t.cur = &bytes.Buffer{}
		t.files[h.Name] = t.cur
	}
	return nil
}
func (t *tarCapture) Write(b []byte) (int, error) {
	if t.cur == nil {
		return 0, fmt.Errorf("write without regular file header")
	}
	return t.cur.Write(b)
}

func doBuild(systems string, bi buildInput, images *imagesInput, res *buildOut) error {
	// ---- src/cmd/linuxkit/build.go:153-197 (the `linuxkit build` command)
	var m moby.Moby
	for _, f := range bi.Files {
		full := filepath.Join(systems, f)
		config, err := os.ReadFile(full)
		if err != nil {
			return oracleError{fmt.Sprintf("cannot read %s: %v", full, err)}
		}
		var unsupported []string
		c, err := moby.NewConfig(config, packageResolver(&unsupported))
		if len(unsupported) > 0 {
			return oracleError{fmt.Sprintf("%s: @pkg: templates are not supported by the oracle: %v", f, unsupported)}
		}
		if err != nil {
			return fmt.Errorf("invalid config: %v", err)
		}
		m, err = moby.AppendConfig(m, c)
		if err != nil {
			return fmt.Errorf("cannot append config files: %v", err)
		}
	}

	for _, v := range m.Volumes {
		res.Volumes = append(res.Volumes, volumeOut{
			Name: v.Name, Image: v.Image, ReadOnly: v.ReadOnly, Format: v.Format, Platforms: v.Platforms,
			BaseDir: v.BaseDir(), LowerDir: v.LowerDir(), TmpDir: v.TmpDir(), MergedDir: v.MergedDir(),
			Resolvable: m.VolByName(v.Name) != nil,
		})
	}

	// ---- moby/build/build.go:Build. Kernel and init images (lines 217-270)
	// only involve image contents, not OCI specs; skipped.

	// allocate each container a uid, gid that can be referenced by name
	// (moby/build/build.go:197-212, re-implemented)
	idMap := map[string]uint32{}
	id := uint32(100)
	for _, image := range m.Onboot {
		idMap[image.Name] = id
		id++
	}
	for _, image := range m.Onshutdown {
		idMap[image.Name] = id
		id++
	}
	for _, image := range m.Services {
		idMap[image.Name] = id
		id++
	}
	// deduplicate containers with the same image (build.go:214-215)
	dupMap := map[string]string{}

	// volumes (build.go:276-344): the only config-dependent failure is the
	// platform parsing for format "oci" volumes (build.go:293-305).
	for _, vol := range m.Volumes {
		switch {
		case vol.ImageRef() == nil || vol.Format == "" || vol.Format == "filesystem":
		case vol.Format == "oci":
			for _, p := range vol.Platforms {
				if _, err := v1.ParsePlatform(p); err != nil {
					return fmt.Errorf("failed to parse platform %s: %v", p, err)
				}
			}
		}
	}

	// onboot / onshutdown / services (build.go:346-390); the prefix is
	// fmt.Sprintf("%03d", i)+"-" for onboot and onshutdown, "" for services.
	sections := []struct {
		name   string
		images []*moby.Image
		prefix bool
	}{{"onboot", m.Onboot, true}, {"onshutdown", m.Onshutdown, true}, {"services", m.Services, false}}
	for _, s := range sections {
		for i, image := range s.images {
			prefix := ""
			if s.prefix {
				prefix = fmt.Sprintf("%03d", i) + "-"
			}
			c, err := outputImage(image, s.name, i, prefix, m, idMap, dupMap, images)
			if err != nil {
				return err
			}
			res.Containers = append(res.Containers, *c)
		}
	}

	// files (build.go:393-396), run through LinuxKit's own filesystem()
	if len(m.Files) > 0 {
		cwd, _ := os.Getwd()
		if len(bi.Files) > 0 {
			_ = os.Chdir(filepath.Dir(filepath.Join(systems, bi.Files[len(bi.Files)-1])))
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					res.FilesError = fmt.Sprintf("panic: %v", p)
				}
			}()
			tw := tar.NewWriter(io.Discard)
			if err := mobybuild.LkvolOracleFilesystem(m, tw, idMap); err != nil {
				res.FilesError = fmt.Sprintf("failed to add filesystem parts: %v", err)
			}
		}()
		_ = os.Chdir(cwd)
	}
	return nil
}

// outputImage re-implements the glue of moby/build/build.go:90-128
// (outputImage), replacing the image pull (imageSource + src.Config(),
// lines 99-106) by a lookup in the images file, and calling LinuxKit's own
// updateMountsAndBindsFromVolumes (volume.go:10, via the build.sh export
// shim), moby.ConfigToOCI and mobybuild.ImageBundle.
func outputImage(image *moby.Image, section string, index int, prefix string, m moby.Moby,
	idMap map[string]uint32, dupMap map[string]string, images *imagesInput) (*containerOut, error) {
	imageName := util.ReferenceExpand(image.Image)
	ref, err := reference.Parse(imageName)
	if err != nil {
		return nil, fmt.Errorf("could not resolve references for image %s: %v", image.Image, err)
	}
	_ = ref
	entry, ok := images.Images[image.Image]
	if !ok {
		return nil, oracleError{fmt.Sprintf("image %q (%s[%d] %s) is missing from the images file", image.Image, section, index, image.Name)}
	}
	var configRaw imagespec.ImageConfig
	if entry.Config != nil {
		configRaw = *entry.Config
	}
	imageWithVolPaths, err := mobybuild.LkvolOracleUpdateMountsAndBindsFromVolumes(image, m)
	if err != nil {
		return nil, fmt.Errorf("failed update image %s from volumes: %w", image.Image, err)
	}
	oci, runtime, err := moby.ConfigToOCI(imageWithVolPaths, configRaw, idMap)
	if err != nil {
		return nil, fmt.Errorf("failed to create OCI spec for %s: %v", image.Image, err)
	}
	config, err := json.MarshalIndent(oci, "", "    ")
	if err != nil {
		return nil, fmt.Errorf("failed to create config for %s: %v", image.Image, err)
	}
	dir := path.Join("containers", section, prefix+image.Name)
	readonly := oci.Root.Readonly

	// ImageBundle (image.go:434) extracts the image with ImageTar the first
	// time a reference is seen and records dupMap[ref] = prefix/(rootfs|lower)
	// (image.go:436-448); later containers with the same image reuse that
	// root. We cannot pull, so we record the same dupMap entry ourselves and
	// let the real ImageBundle take its "found elsewhere" path, which computes
	// runtime.json identically (root = dupMap[ref]).
	ir := image.Ref()
	if ir == nil {
		return nil, oracleError{fmt.Sprintf("image %q has no parsed reference", image.Image)}
	}
	if dupMap[ir.String()] == "" {
		rootExtract := "rootfs"
		if !readonly {
			rootExtract = "lower"
		}
		dupMap[ir.String()] = path.Join(dir, rootExtract)
	}
	tw := &tarCapture{files: map[string]*bytes.Buffer{}}
	err = mobybuild.ImageBundle(dir, fmt.Sprintf("%s[%d]", section, index), ir, config, runtime, tw, readonly, dupMap, mobybuild.BuildOpts{})
	if err != nil {
		return nil, fmt.Errorf("failed to extract root filesystem for %s: %v", image.Image, err)
	}
	cfgBytes, ok1 := tw.files[path.Join(dir, "config.json")]
	rtBytes, ok2 := tw.files[path.Join(dir, "runtime.json")]
	if !ok1 || !ok2 {
		return nil, oracleError{fmt.Sprintf("ImageBundle did not write config.json/runtime.json for %s", dir)}
	}
	return &containerOut{
		Section:  section,
		Index:    index,
		Name:     image.Name,
		Image:    image.Image,
		Dir:      strings.TrimPrefix(dir, "containers/"),
		Config:   json.RawMessage(cfgBytes.Bytes()),
		Runtime:  json.RawMessage(rtBytes.Bytes()),
		Readonly: readonly,
	}, nil
}
