package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The deploy files cannot be run here (no container engine, no Kubernetes),
// so these tests read them and check that they pass `signalscrape serve` and
// `mock-signal` only flags and variables that exist, in combinations that
// serve accepts, and that the members of each file find one another.

// deployDir holds the deploy files, seen from this package's folder.
const deployDir = "../../deploy"

func readDeploy(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, name))
	if err != nil {
		t.Fatalf("reading the deploy file: %v", err)
	}
	return data
}

// checkServe parses args (after the subcommand) and env as a node would and
// runs serve's own checks on them. Every SIGNALSCRAPE_ variable of env must
// belong to a flag.
func checkServe(args []string, env map[string]string) (*serveFlags, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f serveFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("flags %q: %w", args, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("stray arguments %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })

	for name, value := range env {
		if !strings.HasPrefix(name, envPrefix) {
			continue
		}
		fl := flagOfEnv(fs, name)
		if fl == nil {
			return nil, fmt.Errorf("variable %s belongs to no flag of serve", name)
		}
		if given[fl.Name] {
			continue
		}
		if err := fs.Set(fl.Name, value); err != nil {
			return nil, fmt.Errorf("variable %s: %w", name, err)
		}
	}
	return &f, f.check()
}

func flagOfEnv(fs *flag.FlagSet, variable string) *flag.Flag {
	var found *flag.Flag
	fs.VisitAll(func(fl *flag.Flag) {
		if envName(fl.Name) == variable {
			found = fl
		}
	})
	return found
}

// composeFile is the part of docker-compose.yml that the tests read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Networks    composeNetworks   `yaml:"networks"`
}

// composeNetworks maps a network to the service's fixed address on it,
// empty when the network is listed without one.
type composeNetworks map[string]string

// UnmarshalYAML reads both forms of a service's networks: a list of names
// or a map of names to settings.
func (n *composeNetworks) UnmarshalYAML(node *yaml.Node) error {
	*n = composeNetworks{}
	if node.Kind == yaml.SequenceNode {
		var names []string
		if err := node.Decode(&names); err != nil {
			return err
		}
		for _, name := range names {
			(*n)[name] = ""
		}
		return nil
	}
	var settings map[string]struct {
		IPv4 string `yaml:"ipv4_address"`
	}
	if err := node.Decode(&settings); err != nil {
		return err
	}
	for name, s := range settings {
		(*n)[name] = s.IPv4
	}
	return nil
}

// composeDefault matches ${NAME} and ${NAME:-default}.
var composeDefault = regexp.MustCompile(`\$\{[A-Z0-9_]+(?::-([^}]*))?\}`)

// interpolate gives every compose variable its default, as when none is set.
func interpolate(env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = composeDefault.ReplaceAllString(v, "$1")
	}
	return out
}

// composeMember is a serve service of the compose file, checked.
type composeMember struct {
	service string
	flags   *serveFlags
	address string
}

func TestDeployComposeMembersFindEachOther(t *testing.T) {
	var file composeFile
	if err := yaml.Unmarshal(readDeploy(t, "docker-compose.yml"), &file); err != nil {
		t.Fatalf("parsing docker-compose.yml: %v", err)
	}
	members := composeMembers(t, file)
	if len(members) != 3 {
		t.Fatalf("%d serve services, want 3", len(members))
	}

	names := map[string]bool{}
	for _, m := range members {
		names[m.flags.nodeName] = true
		if m.flags.databaseURL != members[0].flags.databaseURL {
			t.Errorf("%s: database URL differs from %s's", m.service, members[0].service)
		}
		var want []string
		for _, other := range members {
			if other.service != m.service {
				want = append(want, other.flags.gossipAddr)
			}
		}
		if got := splitList(m.flags.join); !sameSet(got, want) {
			t.Errorf("%s: --join %q, want the other members' gossip addresses %q", m.service, got, want)
		}
	}
	if len(names) != len(members) {
		t.Errorf("node names are not distinct: %v", names)
	}
}

// composeMembers returns the serve services, checking each one's flags and
// that it binds its fixed address.
func composeMembers(t *testing.T, file composeFile) []composeMember {
	t.Helper()
	var members []composeMember
	for name, svc := range file.Services {
		if len(svc.Command) == 0 || svc.Command[0] != "serve" {
			continue
		}
		f, err := checkServe(svc.Command[1:], interpolate(svc.Environment))
		if err != nil {
			t.Errorf("service %s: %v", name, err)
			continue
		}
		address := svc.Networks["cluster"]
		for flagName, addr := range map[string]string{"--gossip-addr": f.gossipAddr, "--actor-addr": f.actorAddr} {
			if host, _, _ := net.SplitHostPort(addr); host != address {
				t.Errorf("service %s: %s %s is not on its network address %q", name, flagName, addr, address)
			}
		}
		if _, port, _ := net.SplitHostPort(f.httpAddr); !publishes(svc.Ports, port) {
			t.Errorf("service %s: --http-addr %s is not among its ports %q", name, f.httpAddr, svc.Ports)
		}
		members = append(members, composeMember{service: name, flags: f, address: address})
	}
	slices.SortFunc(members, func(a, b composeMember) int { return strings.Compare(a.service, b.service) })
	return members
}

// publishes reports whether one of the compose port mappings ends in the
// container port.
func publishes(ports []string, port string) bool {
	for _, p := range ports {
		if strings.HasSuffix(p, ":"+port) {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestDeployComposeMockSignal(t *testing.T) {
	var file composeFile
	if err := yaml.Unmarshal(readDeploy(t, "docker-compose.yml"), &file); err != nil {
		t.Fatalf("parsing docker-compose.yml: %v", err)
	}
	svc, ok := file.Services["mock-signal"]
	if !ok || len(svc.Command) == 0 || svc.Command[0] != "mock-signal" {
		t.Fatalf("no mock-signal service running mock-signal: %+v", svc)
	}

	// The profiles folder exists only in the container: check that a volume
	// provides it, then parse the flags with a folder of this machine.
	args := slices.Clone(svc.Command[1:])
	for i, arg := range args {
		dir, ok := strings.CutPrefix(arg, "--profiles=")
		if !ok {
			continue
		}
		if !slices.ContainsFunc(svc.Volumes, func(v string) bool { return strings.Contains(v, ":"+dir+":") }) {
			t.Errorf("--profiles %s is no volume's target: %q", dir, svc.Volumes)
		}
		args[i] = "--profiles=" + t.TempDir()
	}
	cfg, err := parseMockFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("mock-signal flags %q: %v", svc.Command, err)
	}

	// Every member's http source reaches it by its service name and port.
	_, port, _ := net.SplitHostPort(cfg.Addr)
	want := "http://mock-signal:" + port + "/"
	for _, m := range composeMembers(t, file) {
		if m.flags.sourceKind == "http" && !strings.HasPrefix(m.flags.sourceURL, want) {
			t.Errorf("%s: --source-url %s does not start with %s", m.service, m.flags.sourceURL, want)
		}
	}
}

// k8sObject is the part of a Kubernetes object that the tests read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		ClusterIP                string `yaml:"clusterIP"`
		PublishNotReadyAddresses bool   `yaml:"publishNotReadyAddresses"`
		ServiceName              string `yaml:"serviceName"`
		Replicas                 int    `yaml:"replicas"`
		Template                 struct {
			Spec struct {
				Containers []k8sContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Args []string `yaml:"args"`
	Env  []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
			SecretKeyRef *struct {
				Optional bool `yaml:"optional"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	ReadinessProbe struct {
		HTTPGet struct {
			Path string `yaml:"path"`
		} `yaml:"httpGet"`
	} `yaml:"readinessProbe"`
}

func readK8s(t *testing.T) map[string]k8sObject {
	t.Helper()
	objects := map[string]k8sObject{}
	dec := yaml.NewDecoder(strings.NewReader(string(readDeploy(t, "kubernetes.yaml"))))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objects
		}
		if err != nil {
			t.Fatalf("parsing kubernetes.yaml: %v", err)
		}
		objects[o.Kind+"/"+o.Metadata.Name] = o
	}
}

// podValues stand for what Kubernetes puts into a pod's fields.
var podValues = map[string]string{
	"metadata.name":      "signalscrape-1",
	"metadata.namespace": "default",
	"status.podIP":       "10.1.2.3",
}

// k8sPodSettings returns the container's arguments and variables as a pod
// sees them, with a required secret standing for a database URL. Optional
// secrets are left unset.
func k8sPodSettings(t *testing.T, c k8sContainer) (args []string, env map[string]string) {
	t.Helper()
	env = map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil:
			env[e.Name] = podValues[e.ValueFrom.FieldRef.FieldPath]
		case e.ValueFrom.SecretKeyRef != nil && !e.ValueFrom.SecretKeyRef.Optional:
			env[e.Name] = "postgres://from-a-secret/signalscrape"
		}
	}
	ref := regexp.MustCompile(`\$\(([A-Za-z0-9_]+)\)`)
	for _, arg := range c.Args {
		args = append(args, ref.ReplaceAllStringFunc(arg, func(m string) string {
			name := ref.FindStringSubmatch(m)[1]
			v, ok := env[name]
			if !ok || v == "" {
				t.Errorf("argument %q uses $(%s), which the container does not set", arg, name)
			}
			return v
		}))
	}
	return args, env
}

func TestDeployKubernetesStatefulSet(t *testing.T) {
	objects := readK8s(t)
	set, ok := objects["StatefulSet/signalscrape"]
	if !ok || len(set.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want a StatefulSet signalscrape with one container; objects: %v", slices.Collect(maps.Keys(objects)))
	}
	headless, ok := objects["Service/"+set.Spec.ServiceName]
	if !ok || headless.Spec.ClusterIP != "None" || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("serviceName %q: want a headless Service that publishes pods before they are ready, got %+v", set.Spec.ServiceName, headless.Spec)
	}

	c := set.Spec.Template.Spec.Containers[0]
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe path %q, want /readyz", c.ReadinessProbe.HTTPGet.Path)
	}
	args, env := k8sPodSettings(t, c)
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("container args %q do not start with serve", args)
	}
	f, err := checkServe(args[1:], env)
	if err != nil {
		t.Fatalf("serve refuses the pod's settings: %v", err)
	}
	if f.nodeName != podValues["metadata.name"] {
		t.Errorf("--node-name is %q, want the pod's stable name", f.nodeName)
	}

	// Every pod of the set is a seed, by its stable DNS name.
	var want []string
	for i := range set.Spec.Replicas {
		want = append(want, fmt.Sprintf("%s-%d.%s.%s.svc:7946", set.Metadata.Name, i, set.Spec.ServiceName, podValues["metadata.namespace"]))
	}
	if got := splitList(f.join); !sameSet(got, want) {
		t.Errorf("--join %q, want %q", got, want)
	}
}

func TestDeployDockerfileCommand(t *testing.T) {
	var cmd []string
	for line := range strings.Lines(string(readDeploy(t, "Dockerfile"))) {
		if rest, ok := strings.CutPrefix(line, "CMD "); ok {
			if err := json.Unmarshal([]byte(rest), &cmd); err != nil {
				t.Fatalf("CMD %s: %v", rest, err)
			}
		}
	}
	if len(cmd) == 0 || cmd[0] != "serve" {
		t.Fatalf("CMD %q does not start serve", cmd)
	}
	if _, err := checkServe(cmd[1:], nil); err != nil {
		t.Errorf("serve refuses the image's command: %v", err)
	}
}

// systemdExample matches a variable in the unit's example settings.
var systemdExample = regexp.MustCompile(`(?m)^#\s+(SIGNALSCRAPE_[A-Z_]+)=(\S+)$`)

func TestDeploySystemdUnit(t *testing.T) {
	unit := string(readDeploy(t, "signalscrape.service"))
	env := map[string]string{}
	for _, m := range systemdExample.FindAllStringSubmatch(unit, -1) {
		env[m[1]] = m[2]
	}
	if len(env) == 0 {
		t.Fatal("the unit shows no example settings")
	}
	var args []string
	for line := range strings.Lines(unit) {
		if rest, ok := strings.CutPrefix(line, "ExecStart="); ok {
			args = strings.Fields(rest)
		}
	}
	if len(args) < 2 || args[1] != "serve" {
		t.Fatalf("ExecStart %q does not start serve", args)
	}
	if _, err := checkServe(args[2:], env); err != nil {
		t.Errorf("serve refuses the unit's settings: %v", err)
	}
}
