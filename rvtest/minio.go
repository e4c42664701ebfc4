package rvtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/testcontainers/testcontainers-go"
	tcminio "github.com/testcontainers/testcontainers-go/modules/minio"
)

// S3 is an S3 server of the harness, MinIO or SeaweedFS: where it answers from the host, with
// which keys, and a client of it for checking what was stored without the service's code.
type S3 interface {
	Endpoint(ctx context.Context) (string, error)
	Credentials() (accessKey, secretKey string)
	Client(ctx context.Context) (*minio.Client, error)
}

var (
	_ S3 = (*MinIO)(nil)
	_ S3 = (*SeaweedFS)(nil)
)

// MinIO is a MinIO server in a container. Its objects survive Stop and Start.
type MinIO struct {
	server
	mc       *tcminio.MinioContainer
	bridged  bool // Endpoint is on the Docker bridge (OnBridge)
	User     string
	Password string
}

// StartMinIO starts a MinIO container from image with fresh root credentials; opts customise
// the container further (OnCPUs).
func StartMinIO(ctx context.Context, image string, opts ...testcontainers.ContainerCustomizer) (*MinIO, error) {
	user, password := "rv"+strings.ToLower(rand.Text()[:10]), rand.Text()
	// The data lives on a volume, as a real MinIO's lives on a disk: this engine's container
	// file system is fuse-overlayfs, whose userspace daemon would otherwise spend a third of
	// the machine's CPU on every write, and measure that rather than MinIO.
	volume := "recordvault-minio-" + strings.ToLower(rand.Text()[:12])
	opts = append([]testcontainers.ContainerCustomizer{tcminio.WithUsername(user), tcminio.WithPassword(password), loopbackPorts("9000/tcp"),
		testcontainers.WithMounts(testcontainers.VolumeMount(volume, "/data"))}, opts...)
	mc, err := tcminio.Run(ctx, image, opts...)
	m := &MinIO{server: server{volume: volume}, mc: mc, User: user, Password: password}
	if mc != nil {
		m.ctr = mc
	}
	if err != nil {
		return m, fmt.Errorf("rvtest: start minio: %w", err)
	}
	return m, m.waitUsable(ctx)
}

// Terminate stops and removes the container and its data volume.
func (m *MinIO) Terminate(ctx context.Context) error {
	if m == nil {
		return nil
	}
	return m.server.Terminate(ctx)
}

// Start starts a stopped MinIO again and waits until it serves S3 requests.
func (m *MinIO) Start(ctx context.Context) error {
	if err := m.server.Start(ctx); err != nil {
		return err
	}
	return m.waitUsable(ctx)
}

// waitUsable waits until MinIO answers an S3 request: it reports itself live (the module's
// wait) a moment before it stops answering "Server not initialized yet".
func (m *MinIO) waitUsable(ctx context.Context) error {
	return poll(ctx, 60*time.Second, 100*time.Millisecond, "minio not usable", func(ctx context.Context) error {
		c, err := m.Client(ctx)
		if err == nil {
			_, err = c.ListBuckets(ctx)
		}
		return err
	})
}

// Endpoint is host:port of the S3 API as seen from the host; it changes after Stop and Start.
// After OnBridge it is BridgeEndpoint.
func (m *MinIO) Endpoint(ctx context.Context) (string, error) {
	if m.bridged {
		return m.BridgeEndpoint(ctx)
	}
	return m.mc.ConnectionString(ctx)
}

// OnBridge makes Endpoint, and every client made from it, reach MinIO on the Docker bridge,
// so that no port forwarder's CPU lands beside a benchmark's.
func (m *MinIO) OnBridge() { m.bridged = true }

// BridgeEndpoint is host:port of the S3 API on the Docker bridge, without a port forwarder.
func (m *MinIO) BridgeEndpoint(ctx context.Context) (string, error) {
	return m.bridgeAddr(ctx, 9000)
}

// Credentials are the root user's access and secret keys.
func (m *MinIO) Credentials() (accessKey, secretKey string) { return m.User, m.Password }

// Client returns a client of MinIO's own API with the root credentials, for checking what the
// service stored without going through the service's code.
func (m *MinIO) Client(ctx context.Context) (*minio.Client, error) {
	endpoint, err := m.Endpoint(ctx)
	if err != nil {
		return nil, err
	}
	return minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.User, m.Password, "")})
}
