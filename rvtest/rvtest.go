// Package rvtest starts the real components recordvault's integration tests run against, a
// Vault server (dev mode, Transit mounted) and a MinIO server, as containers through
// testcontainers-go, and offers the stop, start and pause that fault tests need; a SeaweedFS
// server, the second S3 implementation the storage suite runs on; the whole stack for
// integrators' tests (Start); and the production topology in small (StartCluster).
//
// The images are the project's own (deploy/servers/images.sh, `make images`), built from
// source because this machine kind has no image registry; their tags are VaultImage,
// MinIOImage, SeaweedFSImage, ServiceImage and DevIssuerImage. Ryuk, the reaper container, cannot be pulled
// either, so callers must Terminate what they start.
package rvtest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Configure sets testcontainers up for this machine kind; it must run before the first
// container starts, as testcontainers reads its configuration once. Ryuk, the reaper, is an
// image that cannot be pulled, so it is off. And the containers are reached on localhost:
// inside a container (as these machines are), testcontainers would otherwise talk to the
// Docker bridge's gateway address, and test traffic here stays on loopback.
func Configure() {
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
}

// loopbackPorts publishes each of ports on 127.0.0.1 only (a random host port), rather than
// on every interface of the host.
func loopbackPorts(ports ...string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		hc.PortBindings = network.PortMap{}
		for _, p := range ports {
			hc.PortBindings[network.MustParsePort(p)] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1")}}
		}
	})
}

// CheckImages fails, naming the command that builds them, when an image is not present
// locally: testcontainers would otherwise try to pull it and fail less clearly.
func CheckImages(ctx context.Context, images ...string) error {
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("rvtest: docker: %w", err)
	}
	defer docker.Close()
	if _, err := docker.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("rvtest: no Docker engine reachable: %w", err)
	}
	for _, img := range images {
		if _, err := docker.ImageInspect(ctx, img); err != nil {
			return fmt.Errorf("rvtest: image %s not available (run `make images`): %w", img, err)
		}
	}
	return nil
}

// OnHostPort publishes the container's port on a fixed loopback port of the host, so that
// its address outlives Stop and Start, as a production server's does.
func OnHostPort(port string, hostPort int) testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		hc.PortBindings[network.MustParsePort(port)] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(hostPort)}}
	})
}

// OnCPUs runs a server on the given processors only (a Docker cpuset such as "0" or "1-3"), for
// benchmarks that give a server processors of its own.
func OnCPUs(cpus string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) { hc.CpusetCpus = cpus })
}

// server holds what every server of the harness can do for fault tests.
type server struct {
	ctr    testcontainers.Container
	volume string // the data volume, removed with the container, if it has one
}

// Stop stops the container; its state is kept, but a mapped port is new after Start.
func (c *server) Stop(ctx context.Context) error {
	timeout := 5 * time.Second
	return c.ctr.Stop(ctx, &timeout)
}

// Kill kills every process of the container at once (SIGKILL), as a crash or an OOM kill
// would: nothing runs a shutdown. Start starts it again.
func (c *server) Kill(ctx context.Context) error {
	return c.docker(ctx, func(d *testcontainers.DockerClient) error {
		_, err := d.ContainerKill(ctx, c.ctr.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"})
		return err
	})
}

// Start starts a stopped container again.
func (c *server) Start(ctx context.Context) error { return c.ctr.Start(ctx) }

// Pause freezes every process of the container: connections hang instead of failing.
func (c *server) Pause(ctx context.Context) error {
	return c.docker(ctx, func(d *testcontainers.DockerClient) error {
		_, err := d.ContainerPause(ctx, c.ctr.GetContainerID(), client.ContainerPauseOptions{})
		return err
	})
}

// Unpause resumes a paused container.
func (c *server) Unpause(ctx context.Context) error {
	return c.docker(ctx, func(d *testcontainers.DockerClient) error {
		_, err := d.ContainerUnpause(ctx, c.ctr.GetContainerID(), client.ContainerUnpauseOptions{})
		return err
	})
}

// Terminate stops and removes the container, and its data volume if it has one.
func (c *server) Terminate(ctx context.Context) error {
	if c == nil || c.ctr == nil {
		return nil
	}
	if c.volume != "" {
		return c.ctr.Terminate(ctx, testcontainers.RemoveVolumes(c.volume))
	}
	return c.ctr.Terminate(ctx)
}

// bridgeAddr is host:port of the container's port on the Docker bridge: reached from the host
// directly, without the docker-proxy that forwards a published port (and takes CPU to do so).
func (c *server) bridgeAddr(ctx context.Context, port int) (string, error) {
	ip, err := c.ctr.ContainerIP(ctx)
	if err != nil {
		return "", fmt.Errorf("rvtest: container address: %w", err)
	}
	return net.JoinHostPort(ip, strconv.Itoa(port)), nil
}

func (c *server) docker(ctx context.Context, f func(*testcontainers.DockerClient) error) error {
	d, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("rvtest: docker: %w", err)
	}
	defer d.Close()
	return f(d)
}

// poll calls try every interval until it succeeds, for at most timeout; then it fails with
// what, naming try's last error.
func poll(ctx context.Context, timeout, interval time.Duration, what string, try func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := try(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("rvtest: %s: %w", what, err)
		case <-time.After(interval):
		}
	}
}
