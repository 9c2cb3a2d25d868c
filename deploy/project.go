// Package deploy puts a cws service on AWS as a CloudFormation stack: the
// project file (cws.yaml) and its stages, the function's environment from
// dotenv files (with SSM parameters as dynamic references), the template
// generated from a typed model of the resources the service uses (its
// routes, its CloudEvents doors, its reactors), the binary built and zipped
// deterministically, and the deployment through a change set, with its
// plan and its progress. The cws command's deploy, destroy, info and
// package use it; no service links it.
package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/joho/godotenv"
	"go.yaml.in/yaml/v3"
)

// FileName is the project file.
const FileName = "cws.yaml"

// Project is a project file: the services and the stages they deploy to.
type Project struct {
	// Path is the project file ("" when there is none: the defaults).
	Path string
	// Dir is the project's root: the project file's directory.
	Dir string
	// Services maps service names to their directories (relative to Dir).
	Services map[string]string
	// Stages maps stage names to their settings.
	Stages map[string]*Stage
}

// Stage is the settings of one stage.
type Stage struct {
	// Region and Profile select the AWS account and region (default: the
	// AWS configuration of the environment).
	Region  string
	Profile string
	// Architecture is the function's: arm64 (default) or x86_64.
	Architecture string
	// Memory is the function's memory in MB (default 256).
	Memory int
	// Timeout is the function's timeout in seconds (default 15).
	Timeout int
	// ReservedConcurrency reserves that many concurrent executions (0:
	// none reserved).
	ReservedConcurrency int
	// LogRetention is how many days logs are kept (default 14).
	LogRetention int
	// Queue configures the service's queue and its event source mapping.
	Queue QueueSettings
	// ArtifactBucket is where the code goes (default: one bucket per
	// account and region, cws-artifacts-ACCOUNT-REGION, created once).
	ArtifactBucket string
	// Tags tag every resource of the stack.
	Tags map[string]string
	// DevEndpoints are the developers' blueprints the stage exposes
	// (admin, profiler): none by default outside stage dev.
	DevEndpoints []string
	// APIAuthorizer puts the token authorizer in front of the API (default
	// true): API Gateway asks the function once per token and TTL, and
	// refuses a bad token without invoking the entry. Without it the
	// function checks the token of each request itself (it always does:
	// the answers are the same). LocalStack's community edition cannot
	// create authorizers.
	APIAuthorizer bool
	// AuthorizerTTL is how long API Gateway keeps the token authorizer's
	// answer, in seconds (default 300; 0 asks every time).
	AuthorizerTTL int
	// Environment adds variables to the function's environment, over the
	// dotenv files'.
	Environment map[string]string
	// Idempotency is where the CloudEvents doors on AWS remember the
	// events they handled: "memory" (default: each function instance its
	// own) or "dynamodb" (a table of the stack, shared by every instance
	// and kept across their crashes: CWS_IDEMPOTENCY_TABLE).
	Idempotency string
	// ReplyTo are the SQS queue and EventBridge bus ARNs the service may
	// send results to (cwsreplyto): the role may send there.
	ReplyTo []string

	// ttlSet says the project file sets authorizer_ttl (0 then means
	// "ask every time", not "the default").
	ttlSet bool
	// apiAuthSet says the project file sets api_authorizer.
	apiAuthSet bool
}

// QueueSettings configure the service's queue and event source mapping.
type QueueSettings struct {
	// VisibilityTimeout in seconds (default 6 times the function's timeout,
	// as AWS advises).
	VisibilityTimeout int
	// MaxReceives before a message goes to the dead-letter queue (default 5).
	MaxReceives int
	// BatchSize is how many messages an invocation gets (default 10).
	BatchSize int
	// BatchWindow is how long the mapping gathers a batch, in seconds
	// (default 0).
	BatchWindow int
	// MaximumConcurrency bounds the concurrent invocations of the mapping
	// (2 to 1000; default 0: unbounded).
	MaximumConcurrency int
}

// The idempotency stores a stage may choose.
const (
	IdempotencyMemory   = "memory"
	IdempotencyDynamoDB = "dynamodb"
)

// Defaults of a stage.
const (
	DefaultArchitecture  = "arm64"
	DefaultMemory        = 256
	DefaultTimeout       = 15
	DefaultLogRetention  = 14
	DefaultMaxReceives   = 5
	DefaultBatchSize     = 10
	DefaultAuthorizerTTL = 300
)

// LineError is a mistake of the project file, at a line.
type LineError struct {
	Path string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg) }

// FindProject looks for the project file in dir and above, up to the root
// of the repository (the directory holding .git) or of the file system;
// without one, the project is dir with the defaults.
func FindProject(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for d := abs; ; d = filepath.Dir(d) {
		path := filepath.Join(d, FileName)
		if _, err := os.Stat(path); err == nil {
			return LoadProject(path)
		}
		_, err := os.Stat(filepath.Join(d, ".git"))
		if err == nil || filepath.Dir(d) == d {
			return &Project{Dir: abs, Services: map[string]string{}, Stages: map[string]*Stage{}}, nil
		}
	}
}

// LoadProject reads a project file. An unknown key, a value of the wrong
// kind or out of range is an error naming the key and its line.
func LoadProject(path string) (*Project, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &Project{Path: path, Dir: filepath.Dir(path), Services: map[string]string{}, Stages: map[string]*Stage{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return p, nil
	}
	r := &reader{path: path}
	root := doc.Content[0]
	r.mapping(root, "", map[string]func(*yaml.Node){
		"services": func(n *yaml.Node) {
			r.mapping(n, "services", nil, func(name string, v *yaml.Node) {
				if !serviceName.MatchString(name) {
					r.fail(v, "services.%s: a service name is lower case letters, digits and hyphens", name)
				}
				p.Services[name] = r.str(v, "services."+name)
			})
		},
		"stages": func(n *yaml.Node) {
			r.mapping(n, "stages", nil, func(name string, v *yaml.Node) {
				if !serviceName.MatchString(name) {
					r.fail(v, "stages.%s: a stage name is lower case letters, digits and hyphens", name)
				}
				p.Stages[name] = r.stage(v, "stages."+name)
			})
		},
	}, nil)
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return p, nil
}

var serviceName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// Stage returns the settings of a stage, with the defaults filled in.
func (p *Project) Stage(name string) Stage {
	var s Stage
	if st, ok := p.Stages[name]; ok {
		s = *st
	}
	if s.Architecture == "" {
		s.Architecture = DefaultArchitecture
	}
	if s.Idempotency == "" {
		s.Idempotency = IdempotencyMemory
	}
	if s.Memory == 0 {
		s.Memory = DefaultMemory
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.LogRetention == 0 {
		s.LogRetention = DefaultLogRetention
	}
	if s.Queue.MaxReceives == 0 {
		s.Queue.MaxReceives = DefaultMaxReceives
	}
	if s.Queue.BatchSize == 0 {
		s.Queue.BatchSize = DefaultBatchSize
	}
	if s.Queue.VisibilityTimeout == 0 {
		s.Queue.VisibilityTimeout = 6 * s.Timeout
	}
	if !s.ttlSet {
		s.AuthorizerTTL = DefaultAuthorizerTTL
	}
	if !s.apiAuthSet {
		s.APIAuthorizer = true
	}
	if s.DevEndpoints == nil && name == "dev" {
		s.DevEndpoints = []string{"admin", "profiler"}
	}
	return s
}

// ServiceName returns the name the project file gives the service in dir,
// if it names it.
func (p *Project) ServiceName(dir string) (string, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for name := range p.Services {
		if sd, _ := p.ServiceDir(name); sd == abs {
			return name, true
		}
	}
	return "", false
}

// ServiceDir returns the directory of a named service.
func (p *Project) ServiceDir(name string) (string, bool) {
	d, ok := p.Services[name]
	if !ok {
		return "", false
	}
	if !filepath.IsAbs(d) {
		d = filepath.Join(p.Dir, d)
	}
	return filepath.Clean(d), true
}

// NameOf makes a service name of s (a service's Go name, a directory):
// lower case, other characters than letters and digits made hyphens.
func NameOf(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		case sb.Len() > 0 && !strings.HasSuffix(sb.String(), "-"):
			sb.WriteByte('-')
		}
	}
	return strings.TrimRight(sb.String(), "-")
}

// Env returns the function's environment in a stage: the variables of
// .env, then .env.<stage>, in the service's directory (what cws run reads
// too), then the stage's environment of the project file. The process's
// own environment takes no part: the same files deploy the same function.
func (p *Project) Env(serviceDir, stage string) (map[string]string, error) {
	env := map[string]string{}
	for _, name := range []string{".env", ".env." + stage} {
		path := filepath.Join(serviceDir, name)
		vars, err := godotenv.Read(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		maps.Copy(env, vars)
	}
	st := p.Stage(stage)
	maps.Copy(env, st.Environment)
	return env, nil
}

// reader reads the nodes of a project file, collecting the mistakes.
type reader struct {
	path string
	errs []error
}

func (r *reader) fail(n *yaml.Node, format string, args ...any) {
	r.errs = append(r.errs, &LineError{Path: r.path, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

// mapping walks a mapping: each key is known (known[key]) or, with any,
// anything; other keys are errors naming the known ones.
func (r *reader) mapping(n *yaml.Node, at string, known map[string]func(*yaml.Node), any func(key string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		r.fail(n, "%s: want a mapping", orTop(at))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if f, ok := known[k.Value]; ok {
			f(v)
			continue
		}
		if any != nil {
			any(k.Value, v)
			continue
		}
		names := make([]string, 0, len(known))
		for name := range known {
			names = append(names, name)
		}
		sort.Strings(names)
		r.fail(k, "%s: unknown key %q (known: %s)", orTop(at), k.Value, strings.Join(names, ", "))
	}
}

func orTop(at string) string {
	if at == "" {
		return "the top level"
	}
	return at
}

func (r *reader) str(n *yaml.Node, at string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		r.fail(n, "%s: want a string", at)
		return ""
	}
	return n.Value
}

// num reads an integer between lo and hi.
func (r *reader) num(n *yaml.Node, at string, lo, hi int) int {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		r.fail(n, "%s: %q is not a whole number", at, n.Value)
		return 0
	}
	if v < lo || v > hi {
		r.fail(n, "%s: %d is not between %d and %d", at, v, lo, hi)
	}
	return v
}

func (r *reader) boolean(n *yaml.Node, at string) bool {
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		r.fail(n, "%s: %q is neither true nor false", at, n.Value)
	}
	return v
}

func (r *reader) strings(n *yaml.Node, at string) []string {
	if n.Kind != yaml.SequenceNode {
		r.fail(n, "%s: want a list", at)
		return nil
	}
	out := []string{}
	for i, c := range n.Content {
		out = append(out, r.str(c, fmt.Sprintf("%s[%d]", at, i)))
	}
	return out
}

func (r *reader) strmap(n *yaml.Node, at string) map[string]string {
	out := map[string]string{}
	r.mapping(n, at, nil, func(k string, v *yaml.Node) { out[k] = r.str(v, at+"."+k) })
	return out
}

func (r *reader) stage(n *yaml.Node, at string) *Stage {
	s := &Stage{}
	r.mapping(n, at, map[string]func(*yaml.Node){
		"region":  func(v *yaml.Node) { s.Region = r.str(v, at+".region") },
		"profile": func(v *yaml.Node) { s.Profile = r.str(v, at+".profile") },
		"architecture": func(v *yaml.Node) {
			s.Architecture = r.str(v, at+".architecture")
			if s.Architecture != "arm64" && s.Architecture != "x86_64" {
				r.fail(v, "%s.architecture: %q is neither arm64 nor x86_64", at, s.Architecture)
			}
		},
		"memory":               func(v *yaml.Node) { s.Memory = r.num(v, at+".memory", 128, 10240) },
		"timeout":              func(v *yaml.Node) { s.Timeout = r.num(v, at+".timeout", 1, 900) },
		"reserved_concurrency": func(v *yaml.Node) { s.ReservedConcurrency = r.num(v, at+".reserved_concurrency", 0, 1000) },
		"log_retention": func(v *yaml.Node) {
			s.LogRetention = r.num(v, at+".log_retention", 1, 3653)
			if !validRetention[s.LogRetention] && s.LogRetention != 0 {
				r.fail(v, "%s.log_retention: %d days is not one CloudWatch Logs keeps (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)", at, s.LogRetention)
			}
		},
		"queue": func(v *yaml.Node) {
			q := &s.Queue
			r.mapping(v, at+".queue", map[string]func(*yaml.Node){
				"visibility_timeout": func(v *yaml.Node) { q.VisibilityTimeout = r.num(v, at+".queue.visibility_timeout", 0, 43200) },
				"max_receives":       func(v *yaml.Node) { q.MaxReceives = r.num(v, at+".queue.max_receives", 1, 1000) },
				"batch_size":         func(v *yaml.Node) { q.BatchSize = r.num(v, at+".queue.batch_size", 1, 10000) },
				"batch_window":       func(v *yaml.Node) { q.BatchWindow = r.num(v, at+".queue.batch_window", 0, 300) },
				"maximum_concurrency": func(v *yaml.Node) {
					q.MaximumConcurrency = r.num(v, at+".queue.maximum_concurrency", 2, 1000)
				},
			}, nil)
		},
		"artifact_bucket": func(v *yaml.Node) { s.ArtifactBucket = r.str(v, at+".artifact_bucket") },
		"tags":            func(v *yaml.Node) { s.Tags = r.strmap(v, at+".tags") },
		"dev_endpoints": func(v *yaml.Node) {
			s.DevEndpoints = r.strings(v, at+".dev_endpoints")
			for _, e := range s.DevEndpoints {
				if e != "admin" && e != "profiler" {
					r.fail(v, "%s.dev_endpoints: %q is neither admin nor profiler", at, e)
				}
			}
		},
		"api_authorizer": func(v *yaml.Node) { s.APIAuthorizer = r.boolean(v, at+".api_authorizer"); s.apiAuthSet = true },
		"authorizer_ttl": func(v *yaml.Node) { s.AuthorizerTTL = r.num(v, at+".authorizer_ttl", 0, 3600); s.ttlSet = true },
		"environment":    func(v *yaml.Node) { s.Environment = r.strmap(v, at+".environment") },
		"idempotency": func(v *yaml.Node) {
			s.Idempotency = r.str(v, at+".idempotency")
			if s.Idempotency != IdempotencyMemory && s.Idempotency != IdempotencyDynamoDB {
				r.fail(v, "%s.idempotency: %q is neither memory nor dynamodb", at, s.Idempotency)
			}
		},
		"reply_to": func(v *yaml.Node) {
			s.ReplyTo = r.strings(v, at+".reply_to")
			for _, a := range s.ReplyTo {
				if !strings.HasPrefix(a, "arn:") {
					r.fail(v, "%s.reply_to: %q is not an ARN", at, a)
				}
			}
		},
	}, nil)
	return s
}

var validRetention = map[int]bool{1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true, 90: true, 120: true, 150: true,
	180: true, 365: true, 400: true, 545: true, 731: true, 1096: true, 1827: true, 2192: true, 2557: true, 2922: true, 3288: true, 3653: true}
