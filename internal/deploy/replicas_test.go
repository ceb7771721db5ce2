package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// The override of README "Deploy to a GPU server" for more transcription
// (examples/deploy/docker-compose.gpus.yml) merges with docker-compose.yml:
// one API per GPU, each pinned to a GPU of its own (a `count: 1` reservation
// would give every container the first GPU), none resuming training jobs,
// the checkpoint volume shared, and nginx in front of exactly those replicas.
func TestComposeGPUReplicas(t *testing.T) {
	const override = "examples/deploy/docker-compose.gpus.yml"
	p := loadCompose(t, []string{"ASR_MODEL=/app/checkpoints/models/m"}, override)
	api := service(t, p, "asr-api")
	apiBinds := map[string]string{}
	for _, v := range api.Volumes {
		apiBinds[v.Target] = v.Source
	}

	var replicas []string
	seen := map[string]string{}
	for _, s := range p.Services {
		if !strings.HasPrefix(s.Name, "asr-gpu") {
			continue
		}
		replicas = append(replicas, s.Name)
		cmd := []string(s.Command)
		if len(cmd) == 0 || cmd[0] != "serve" {
			t.Errorf("%s: command %q, want asr serve", s.Name, cmd)
			continue
		}
		if _, ok := flag(cmd, "resume-jobs"); ok || slices.Contains(cmd, "--resume-jobs") {
			t.Errorf("%s: --resume-jobs: every replica would resume the same interrupted job", s.Name)
		}
		if m, _ := flag(cmd, "model"); m != "/app/checkpoints/models/m" {
			t.Errorf("%s: --model=%q, want $ASR_MODEL", s.Name, m)
		}
		if len(s.Ports) != 0 {
			t.Errorf("%s: publishes %v; only the balancer has a host port", s.Name, ports(s))
		}
		if s.Image != "asr-app" || s.Build != nil {
			t.Errorf("%s: image %q (build %v), want the asr-app image run.sh builds", s.Name, s.Image, s.Build)
		}
		if v := s.Environment["ASR_API_TOKEN"]; v == nil {
			t.Errorf("%s: no ASR_API_TOKEN: the replicas must check the same token as asr-api", s.Name)
		}
		for _, v := range s.Volumes {
			if v.Target == "/app/checkpoints" && (v.Source != apiBinds[v.Target] || v.ReadOnly) {
				t.Errorf("%s: /app/checkpoints from %q (read-only %v), want asr-api's %q, writable (asr serve checks it)", s.Name, v.Source, v.ReadOnly, apiBinds[v.Target])
			}
		}
		if s.Deploy == nil || s.Deploy.Resources.Reservations == nil || len(s.Deploy.Resources.Reservations.Devices) != 1 {
			t.Errorf("%s: want one GPU reservation", s.Name)
			continue
		}
		d := s.Deploy.Resources.Reservations.Devices[0]
		if d.Driver != "nvidia" || len(d.IDs) != 1 || d.Count != 0 || !slices.Contains(d.Capabilities, "gpu") {
			t.Errorf("%s: reservation %+v, want driver nvidia, one device_ids entry, capabilities [gpu]", s.Name, d)
			continue
		}
		if d.IDs[0] == "0" {
			t.Errorf("%s: GPU 0 is asr-api's (count: 1 takes the first GPU)", s.Name)
		}
		if other, ok := seen[d.IDs[0]]; ok {
			t.Errorf("%s and %s share GPU %s", s.Name, other, d.IDs[0])
		}
		seen[d.IDs[0]] = s.Name
		if s.HealthCheck == nil || s.HealthCheck.Disable {
			t.Errorf("%s: no healthcheck (the balancer waits for healthy replicas)", s.Name)
		}
	}
	if len(replicas) < 2 {
		t.Fatalf("replicas %v, want at least two asr-gpuN services", replicas)
	}
	slices.Sort(replicas)

	lb := service(t, p, "lb")
	if got := ports(lb); len(got) != 1 || !strings.HasPrefix(got[0], "127.0.0.1:58082->") {
		t.Errorf("lb: ports %q, want 127.0.0.1:58082 (beside 58080 and 58081)", got)
	}
	for _, r := range replicas {
		if dep, ok := lb.DependsOn[r]; !ok || dep.Condition != types.ServiceConditionHealthy {
			t.Errorf("lb: depends_on %v, want %s healthy", lb.DependsOn, r)
		}
	}
	conf := ""
	for _, v := range lb.Volumes {
		if v.Target == "/etc/nginx/conf.d/default.conf" {
			conf = v.Source
		}
	}
	abs, _ := filepath.Abs(filepath.Join(root, "examples", "deploy", "nginx.conf"))
	if conf != abs {
		t.Fatalf("lb: nginx config from %q, want %s", conf, abs)
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	// The upstream lists exactly the replicas, on asr serve's port.
	var servers []string
	for _, m := range regexp.MustCompile(`(?m)^\s*server\s+([\w.-]+):(\d+)`).FindAllStringSubmatch(string(b), -1) {
		if m[2] != "8000" {
			t.Errorf("nginx.conf: server %s:%s, want port 8000", m[1], m[2])
		}
		servers = append(servers, m[1])
	}
	slices.Sort(servers)
	if !slices.Equal(servers, replicas) {
		t.Errorf("nginx.conf upstream servers %v, want the replicas %v", servers, replicas)
	}
	listen := regexp.MustCompile(`(?m)^\s*listen\s+(\d+);`).FindStringSubmatch(string(b))
	if listen == nil || len(lb.Ports) != 1 || listen[1] != strconv.FormatUint(uint64(lb.Ports[0].Target), 10) {
		t.Errorf("nginx.conf listens on %v, the lb service maps %v", listen, ports(lb))
	}
	for _, loc := range []string{"location = /v1/transcribe", "location = /v1/stream", "location = /healthz"} {
		if !strings.Contains(string(b), loc) {
			t.Errorf("nginx.conf has no %q", loc)
		}
	}
	if !strings.Contains(string(b), "proxy_set_header Upgrade $http_upgrade") {
		t.Error("nginx.conf does not pass WebSocket upgrades (/v1/stream)")
	}
}
