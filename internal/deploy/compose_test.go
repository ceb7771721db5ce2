package deploy

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// root is the repository root, where the deployment files are.
var root = filepath.Join("..", "..")

// loadCompose loads docker-compose.yml (and any override files, relative to
// the root) as `docker compose` would in the root folder, with exactly the
// environment env: no .env file and none of the test process's variables.
func loadCompose(t *testing.T, env []string, overrides ...string) *types.Project {
	t.Helper()
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(abs, "docker-compose.yml")}
	for _, o := range overrides {
		files = append(files, filepath.Join(abs, o))
	}
	opts, err := cli.NewProjectOptions(files, cli.WithName("asrkit"), cli.WithWorkingDirectory(abs), cli.WithEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("loading docker-compose.yml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %q: %v", name, err)
	}
	return s
}

// flag returns the value of --name=value or --name value in a command.
func flag(cmd []string, name string) (string, bool) {
	for i, a := range cmd {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(cmd) {
			return cmd[i+1], true
		}
	}
	return "", false
}

// listenPort is the port of a --listen flag such as ":8000".
func listenPort(t *testing.T, cmd []string) uint32 {
	t.Helper()
	l, ok := flag(cmd, "listen")
	if !ok {
		t.Fatalf("command %q has no --listen", cmd)
	}
	_, port, _ := strings.Cut(l, ":")
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		t.Fatalf("--listen=%s: %v", l, err)
	}
	return uint32(n)
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t, nil)
	if got := p.ServiceNames(); !slices.Equal(sortedCopy(got), []string{"asr-api", "frontend"}) {
		t.Fatalf("services = %v, want asr-api and frontend", got)
	}
	for _, name := range []string{"asr-api", "frontend"} {
		s := service(t, p, name)
		if s.Image != "asr-app" {
			t.Errorf("%s: image %q, want asr-app (run.sh builds it with docker build -t asr-app)", name, s.Image)
		}
		if s.Build != nil {
			t.Errorf("%s: has a build section; run.sh builds the image as a step of its own", name)
		}
		if s.Restart != "unless-stopped" {
			t.Errorf("%s: restart %q, want unless-stopped (survive a server reboot)", name, s.Restart)
		}
	}
	if v, ok := service(t, p, "asr-api").Environment["ASR_API_TOKEN"]; !ok || v == nil || *v != "" {
		t.Errorf("asr-api: ASR_API_TOKEN = %v, want present and empty without an .env", v)
	}
}

func TestComposeAPI(t *testing.T) {
	p := loadCompose(t, nil)
	api := service(t, p, "asr-api")
	abs, _ := filepath.Abs(root)

	cmd := []string(api.Command)
	if len(cmd) == 0 || cmd[0] != "serve" {
		t.Fatalf("command %q, want asr serve ...", cmd)
	}
	port := listenPort(t, cmd)
	if port != 8000 {
		t.Errorf("listens on %d, want 8000", port)
	}
	if !slices.Contains(cmd, "--resume-jobs") {
		t.Errorf("command %q: without --resume-jobs a redeploy leaves an interrupted job stopped", cmd)
	}
	if got, want := ports(api), []string{"127.0.0.1:58081->8000/tcp"}; !slices.Equal(got, want) {
		t.Errorf("ports = %q, want %q (loopback only: run.sh forwards them over SSH)", got, want)
	}

	// The GPU: one NVIDIA device.
	if api.Deploy == nil || api.Deploy.Resources.Reservations == nil {
		t.Fatal("no deploy.resources.reservations: the service gets no GPU")
	}
	devs := api.Deploy.Resources.Reservations.Devices
	want := types.DeviceRequest{Driver: "nvidia", Count: 1, Capabilities: []string{"gpu"}}
	if len(devs) != 1 || devs[0].Driver != want.Driver || devs[0].Count != want.Count || !slices.Equal(devs[0].Capabilities, want.Capabilities) {
		t.Errorf("device reservations = %+v, want [%+v]", devs, want)
	}

	// Volumes: ./data and ./checkpoints, where the server's roots are.
	binds := map[string]string{}
	for _, v := range api.Volumes {
		if v.Type != types.VolumeTypeBind {
			t.Errorf("volume %+v is not a bind mount", v)
		}
		binds[v.Target] = v.Source
	}
	wantBinds := map[string]string{"/app/data": filepath.Join(abs, "data"), "/app/checkpoints": filepath.Join(abs, "checkpoints")}
	if len(binds) != len(wantBinds) {
		t.Errorf("volumes = %v, want %v", binds, wantBinds)
	}
	for target, src := range wantBinds {
		if binds[target] != src {
			t.Errorf("volume on %s from %q, want %q", target, binds[target], src)
		}
	}
	for f, target := range map[string]string{"data-root": "/app/data", "checkpoint-root": "/app/checkpoints"} {
		if v, _ := flag(cmd, f); v != target {
			t.Errorf("--%s=%q, want the volume %s", f, v, target)
		}
	}

	// A training step and a checkpoint fit in the grace period.
	if api.StopGracePeriod == nil || time.Duration(*api.StopGracePeriod) < time.Minute {
		t.Errorf("stop_grace_period = %v, want at least a minute", api.StopGracePeriod)
	}
	checkHealth(t, api, port, "/healthz")
}

func TestComposeFrontend(t *testing.T) {
	p := loadCompose(t, nil)
	fe := service(t, p, "frontend")
	api := service(t, p, "asr-api")
	cmd := []string(fe.Command)
	if len(cmd) == 0 || cmd[0] != "gui" {
		t.Fatalf("command %q, want asr gui ...", cmd)
	}
	port := listenPort(t, cmd)
	if got, want := ports(fe), []string{"127.0.0.1:58080->8501/tcp"}; port != 8501 || !slices.Equal(got, want) {
		t.Errorf("listens on %d with ports %q, want 8501 and %q", port, got, want)
	}
	// --api names the API service on its container port.
	a, _ := flag(cmd, "api")
	u, err := url.Parse(a)
	if err != nil || u.Scheme != "http" || u.Hostname() != "asr-api" || u.Port() != strconv.Itoa(int(listenPort(t, api.Command))) {
		t.Errorf("--api=%q, want http://asr-api:%d", a, listenPort(t, api.Command))
	}
	dep, ok := fe.DependsOn["asr-api"]
	if !ok || dep.Condition != types.ServiceConditionHealthy || !dep.Required {
		t.Errorf("depends_on = %+v, want asr-api, condition service_healthy", fe.DependsOn)
	}
	if fe.Deploy != nil && fe.Deploy.Resources.Reservations != nil {
		t.Errorf("the GUI reserves devices: %+v", fe.Deploy.Resources.Reservations)
	}
	checkHealth(t, fe, port, "/healthz")
}

// checkHealth checks a service's healthcheck: asr healthcheck on its own
// port (the image has no curl), with an interval and retries.
func checkHealth(t *testing.T, s types.ServiceConfig, port uint32, path string) {
	t.Helper()
	h := s.HealthCheck
	if h == nil || h.Disable {
		t.Fatalf("%s: no healthcheck", s.Name)
	}
	want := []string{"CMD", "asr", "healthcheck", "http://localhost:" + strconv.Itoa(int(port)) + path}
	if !slices.Equal([]string(h.Test), want) {
		t.Errorf("%s: healthcheck %q, want %q", s.Name, h.Test, want)
	}
	if h.Interval == nil || h.Timeout == nil || h.Retries == nil || *h.Retries < 1 || h.StartPeriod == nil {
		t.Errorf("%s: healthcheck %+v needs interval, timeout, retries and start_period", s.Name, h)
	}
}

// The .env settings the README documents change what they should.
func TestComposeEnvironment(t *testing.T) {
	p := loadCompose(t, []string{"ASR_API_TOKEN=s3cret", "ASR_BIND_ADDRESS=0.0.0.0"})
	if v := service(t, p, "asr-api").Environment["ASR_API_TOKEN"]; v == nil || *v != "s3cret" {
		t.Errorf("asr-api: ASR_API_TOKEN = %v, want s3cret from the environment", v)
	}
	// The GUI forwards the browser's token; it has none of its own.
	if v, ok := service(t, p, "frontend").Environment["ASR_API_TOKEN"]; ok {
		t.Errorf("frontend: ASR_API_TOKEN = %v, want none (the browser sends the token)", v)
	}
	for _, name := range []string{"asr-api", "frontend"} {
		s := service(t, p, name)
		if len(s.Ports) != 1 || s.Ports[0].HostIP != "0.0.0.0" {
			t.Errorf("%s: ports %+v, want bound to 0.0.0.0", name, s.Ports)
		}
	}
}

// The container test's override (scripts/containers/compose.test.yml) builds
// the image from the Dockerfile without CUDA and keeps the test's data away
// from ./data and ./checkpoints.
func TestComposeTestOverride(t *testing.T) {
	p := loadCompose(t, []string{"ASR_TEST_DIR=/tmp/asr-test", "ASR_TEST_BUILD_IMAGE=b", "ASR_TEST_RUNTIME_IMAGE=r"},
		"scripts/containers/compose.test.yml")
	api := service(t, p, "asr-api")
	if api.Build == nil || api.Build.Dockerfile != "Dockerfile" {
		t.Fatalf("asr-api build = %+v, want the Dockerfile", api.Build)
	}
	args := api.Build.Args
	for k, want := range map[string]string{"WITH_CUDA": "0", "BUILD_IMAGE": "b", "RUNTIME_IMAGE": "r"} {
		if v := args[k]; v == nil || *v != want {
			t.Errorf("build arg %s = %v, want %q", k, v, want)
		}
	}
	for _, name := range []string{"asr-api", "frontend"} {
		for _, v := range service(t, p, name).Volumes {
			if !strings.HasPrefix(v.Source, "/tmp/asr-test/") {
				t.Errorf("%s: volume %s from %s, want under ASR_TEST_DIR", name, v.Target, v.Source)
			}
		}
	}
}

// ports lists a service's published ports as HOST_IP:PUBLISHED->TARGET/PROTOCOL.
func ports(s types.ServiceConfig) []string {
	var out []string
	for _, p := range s.Ports {
		out = append(out, fmt.Sprintf("%s:%s->%d/%s", p.HostIP, p.Published, p.Target, p.Protocol))
	}
	return out
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
