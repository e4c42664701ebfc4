package rvtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// SeaweedFSImage is the SeaweedFS server's image as deploy/servers/images.sh tags it, at the
// version of deploy/versions.env (TestImagesMatchVersions).
const SeaweedFSImage = "recordvault-seaweedfs:v0.0.0-20261109003541-7506e5f91cd6"

// SeaweedFS is a SeaweedFS server in a container: master, volume server, filer and S3 gateway
// in one process, the second, independent S3 implementation the storage suite runs against
// ("any S3"). Its objects survive Stop and Start.
type SeaweedFS struct {
	server
	AccessKey string
	SecretKey string
}

// seaweedS3Port is where the S3 gateway listens in the container.
const seaweedS3Port = "8333/tcp"

// StartSeaweedFS starts a SeaweedFS container from image with one S3 identity of fresh
// credentials allowed everything (the S3 API's root, as MinIO's root user is); opts customise
// the container further.
func StartSeaweedFS(ctx context.Context, image string, opts ...testcontainers.ContainerCustomizer) (*SeaweedFS, error) {
	s := &SeaweedFS{
		server:    server{volume: "recordvault-seaweedfs-" + strings.ToLower(rand.Text()[:12])},
		AccessKey: "rv" + strings.ToLower(rand.Text()[:10]),
		SecretKey: rand.Text(),
	}
	identities, err := json.Marshal(map[string]any{"identities": []map[string]any{{
		"name":        "recordvault",
		"credentials": []map[string]string{{"accessKey": s.AccessKey, "secretKey": s.SecretKey}},
		"actions":     []string{"Admin", "Read", "Write", "List", "Tagging"},
	}}})
	if err != nil {
		return nil, fmt.Errorf("rvtest: seaweedfs identities: %w", err)
	}
	opts = append([]testcontainers.ContainerCustomizer{
		// Every bucket is a collection of volumes of its own, grown at its first write: one
		// volume at a time (not SeaweedFS's 7), small ones, as many as the disk holds (not 8),
		// so that the tests' many buckets each start writing at once.
		testcontainers.WithCmd("server", "-dir=/data", "-ip=127.0.0.1", "-ip.bind=0.0.0.0",
			"-master.volumeSizeLimitMB=64", "-volume.max=0", "-s3", "-s3.port=8333", "-s3.config=/etc/recordvault-s3.json"),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader: strings.NewReader(string(identities)), ContainerFilePath: "/etc/recordvault-s3.json", FileMode: 0o600,
		}, testcontainers.ContainerFile{
			Reader: strings.NewReader("[master.volume_growth]\ncopy_1 = 1\n"), ContainerFilePath: "/etc/seaweedfs/master.toml", FileMode: 0o644,
		}),
		testcontainers.WithExposedPorts(seaweedS3Port),
		loopbackPorts(seaweedS3Port),
		// On a volume, as MinIO's data is (StartMinIO says why).
		testcontainers.WithMounts(testcontainers.VolumeMount(s.volume, "/data")),
		testcontainers.WithWaitStrategy(wait.ForListeningPort(seaweedS3Port).WithStartupTimeout(90 * time.Second)),
	}, opts...)
	ctr, err := testcontainers.Run(ctx, image, opts...)
	if ctr != nil {
		s.ctr = ctr
	}
	if err != nil {
		return s, fmt.Errorf("rvtest: start seaweedfs: %w", err)
	}
	return s, s.waitUsable(ctx)
}

// Terminate stops and removes the container and its data volume.
func (s *SeaweedFS) Terminate(ctx context.Context) error {
	if s == nil {
		return nil
	}
	return s.server.Terminate(ctx)
}

// waitUsable waits until the server stores an object: the S3 gateway listens before its filer
// answers, and the first write waits while the master grows the first volumes (seconds, past
// the service's stall limit), so a write in a scratch bucket is the check.
func (s *SeaweedFS) waitUsable(ctx context.Context) error {
	const bucket, key = "rvtest-usable", "usable"
	if err := poll(ctx, 90*time.Second, 200*time.Millisecond, "seaweedfs not usable", func(ctx context.Context) error {
		return s.tryWrite(ctx, bucket, key)
	}); err != nil {
		return err
	}
	c, err := s.Client(ctx)
	if err == nil {
		err = c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{})
	}
	if err == nil {
		err = c.RemoveBucket(ctx, bucket)
	}
	return err
}

// tryWrite creates bucket when missing and writes a small object to it.
func (s *SeaweedFS) tryWrite(ctx context.Context, bucket, key string) error {
	c, err := s.Client(ctx)
	if err != nil {
		return err
	}
	if ok, err := c.BucketExists(ctx, bucket); err != nil {
		return err
	} else if !ok {
		if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			return err
		}
	}
	_, err = c.PutObject(ctx, bucket, key, strings.NewReader(key), int64(len(key)), minio.PutObjectOptions{})
	return err
}

// Endpoint is host:port of the S3 API as seen from the host; it changes after Stop and Start.
func (s *SeaweedFS) Endpoint(ctx context.Context) (string, error) {
	host, err := s.ctr.PortEndpoint(ctx, seaweedS3Port, "")
	if err != nil {
		return "", fmt.Errorf("rvtest: seaweedfs endpoint: %w", err)
	}
	return host, nil
}

// Credentials are the access and secret keys of the server's one identity.
func (s *SeaweedFS) Credentials() (accessKey, secretKey string) { return s.AccessKey, s.SecretKey }

// Client returns a client of the S3 API with the server's credentials, for checking what the
// service stored without going through the service's code.
func (s *SeaweedFS) Client(ctx context.Context) (*minio.Client, error) {
	endpoint, err := s.Endpoint(ctx)
	if err != nil {
		return nil, err
	}
	return minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, "")})
}
