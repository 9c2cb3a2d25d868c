package localstack

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tclocalstack "github.com/testcontainers/testcontainers-go/modules/localstack"
)

// dockerHealthy reports whether a Docker engine answers, without the long
// waits and logs of a missing engine: with neither DOCKER_HOST nor a Docker
// socket, there is none.
func dockerHealthy(ctx context.Context) error {
	if os.Getenv("DOCKER_HOST") == "" {
		found := false
		for _, sock := range []string{"/var/run/docker.sock", os.ExpandEnv("$HOME/.docker/run/docker.sock"), os.ExpandEnv("$XDG_RUNTIME_DIR/docker.sock")} {
			if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("no Docker socket and no DOCKER_HOST")
		}
	}
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer p.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.Health(cctx); err != nil {
		return fmt.Errorf("the Docker engine does not answer: %w", err)
	}
	return nil
}

// startContainer runs the LocalStack image with testcontainers.
func startContainer(ctx context.Context, o *options) (*Instance, error) {
	env := map[string]string{"SERVICES": strings.Join(o.services, ","), "EAGER_SERVICE_LOADING": "1"}
	if tok := o.env("LOCALSTACK_AUTH_TOKEN"); tok != "" {
		env["LOCALSTACK_AUTH_TOKEN"] = tok
	}
	c, err := tclocalstack.Run(ctx, Image, testcontainers.WithEnv(env))
	if err != nil {
		if c != nil {
			_ = testcontainers.TerminateContainer(c)
		}
		return nil, fmt.Errorf("starting %s: %w", Image, err)
	}
	endpoint, err := c.PortEndpoint(ctx, "4566/tcp", "http")
	if err == nil {
		err = waitHealthy(ctx, endpoint, o.services, o.startTimeout)
	}
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return nil, fmt.Errorf("%s: %w", Image, err)
	}
	id := c.GetContainerID()
	if len(id) > 12 {
		id = id[:12]
	}
	return &Instance{Endpoint: endpoint, Source: FromDocker, Detail: "container " + id,
		stop: func(context.Context) error { return testcontainers.TerminateContainer(c) }}, nil
}
