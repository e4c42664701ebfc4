// Package storage is the only code in recordvault that talks to S3-compatible object storage
// (MinIO in development and tests, any S3 in production): conditional operations on objects
// as bytes. It implements object.Store, the small-object store the domain packages keep their
// state in, and the streams and retained versions that records and the audit chain need; each
// domain package owns its types and its part of the key layout (docs/ARCHITECTURE.md).
//
// Everything it stores is ciphertext or ids produced elsewhere. Object keys and metadata carry
// random ids only, never PHI; keys are checked against a narrow alphabet so that nothing a
// person typed can reach them. Writes are conditional, so two writers can never silently
// overwrite each other: a create fails when the object exists (If-None-Match: *), a replace
// when it changed (If-Match).
package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/internal/stall"
	"github.com/recordvault/recordvault/storage/object"
)

// Config is what the service needs to reach its bucket.
type Config struct {
	Endpoint  string // host:port, without scheme
	AccessKey string
	SecretKey string
	Bucket    string
	UseTLS    bool
	Region    string // optional
	// Transport, when set, carries every request (custom TLS, proxies, instrumentation).
	Transport http.RoundTripper
	// Instrument, when set, wraps the transport (the given one, or the stall-bounded
	// default) to observe every call (metrics.Dependency).
	Instrument func(http.RoundTripper) http.RoundTripper
	// AuditRetention, when set, writes every audit block and acknowledged loss under S3 Object
	// Lock in compliance mode for that long (HIPAA keeps such documentation six years,
	// 45 CFR 164.316(b)(2)(i)): until then no one, the bucket's root included, can delete or
	// overwrite the stored bytes; deleting the key only hides them behind a delete marker,
	// and removing the marker restores them. The bucket must have Object Lock enabled (Ready
	// says so when it does not; EnsureBucket creates it so).
	AuditRetention time.Duration
}

// ConfigFromEnv reads the configuration the recordvault commands share from the
// environment: RECORDVAULT_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY, _BUCKET ("recordvault" when
// unset), _TLS ("true" for HTTPS) and _REGION, and RECORDVAULT_AUDIT_RETENTION_DAYS (whole
// days; unset or 0 for none). A retention that is not a whole number of days is an error,
// never taken for none.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	bucket := getenv("RECORDVAULT_S3_BUCKET")
	if bucket == "" {
		bucket = "recordvault"
	}
	cfg := Config{
		Endpoint:  getenv("RECORDVAULT_S3_ENDPOINT"),
		AccessKey: getenv("RECORDVAULT_S3_ACCESS_KEY"),
		SecretKey: getenv("RECORDVAULT_S3_SECRET_KEY"),
		Bucket:    bucket,
		UseTLS:    getenv("RECORDVAULT_S3_TLS") == "true",
		Region:    getenv("RECORDVAULT_S3_REGION"),
	}
	if days := getenv("RECORDVAULT_AUDIT_RETENTION_DAYS"); days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*366 {
			return Config{}, fmt.Errorf("RECORDVAULT_AUDIT_RETENTION_DAYS: a whole number of days, got %q", days)
		}
		cfg.AuditRetention = time.Duration(n) * 24 * time.Hour
	}
	return cfg, nil
}

// Store is one bucket of object storage.
type Store struct {
	client         *minio.Client
	bucket         string
	auditRetention time.Duration
	// conditional is set once the bucket has shown that it honours conditional writes.
	conditional atomic.Bool
}

// Large objects upload in parts of streamPartSize bytes (larger when the object would need
// more than maxParts), streamThreads at a time.
const (
	streamPartSize = 5 << 20 // the smallest part S3 allows
	streamThreads  = 3
	maxParts       = 9000 // S3 allows 10,000
)

// maxAttempts bounds the tries of one S3 call; with stall.Limit per try, a call to a stalled
// server fails within about 6.5 s.
const maxAttempts = 2

// callTimeout bounds a call on a small object from start to end, however it progresses.
const callTimeout = 10 * time.Second

// failed wraps the error of op, marked recordvault.ErrUnavailable when it says the storage did
// not answer (in time) or answered that it cannot serve now.
func failed(op string, err error) error {
	if stall.Unavailable(err) || minio.ToErrorResponse(err).StatusCode >= http.StatusInternalServerError {
		return fmt.Errorf("%w: storage: %s: %w", recordvault.ErrUnavailable, op, err)
	}
	return fmt.Errorf("storage: %s: %w", op, err)
}

// probeTimeout bounds one readiness check, so that dead storage is reported quickly.
const probeTimeout = 2 * time.Second

// validKey: lowercase ids separated by slashes, with an optional extension, and nothing else.
var validKey = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}(/[a-z0-9][a-z0-9_.-]{0,63}){0,7}$`)

// New returns a Store for cfg. It does not contact the server; Ready does.
func New(cfg Config) (*Store, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("storage: endpoint and bucket are required")
	}
	transport := cfg.Transport
	if transport == nil {
		t, err := minio.DefaultTransport(cfg.UseTLS)
		if err != nil {
			return nil, fmt.Errorf("storage: transport: %w", err)
		}
		transport = stall.Transport(t, stall.Limit)
	}
	if cfg.Instrument != nil {
		transport = cfg.Instrument(transport)
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.UseTLS,
		Region:    cfg.Region,
		Transport: transport,
		// One retry at most: a stalled or stopped server answers no better a moment later,
		// and the request waiting on it is answered 503 within seconds instead.
		MaxRetries: maxAttempts,
	})
	if err != nil {
		return nil, failed("new client", err)
	}
	return &Store{client: client, bucket: cfg.Bucket, auditRetention: cfg.AuditRetention}, nil
}

// Ready reports whether the bucket can be reached with this store's credentials.
func (s *Store) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("storage unreachable: %w", err)
	}
	if !ok {
		return fmt.Errorf("storage bucket %q does not exist", s.bucket)
	}
	if s.auditRetention > 0 {
		if lock, _, _, _, err := s.client.GetObjectLockConfig(ctx, s.bucket); err != nil || lock != "Enabled" {
			return fmt.Errorf("storage bucket %q has no Object Lock, which audit retention needs", s.bucket)
		}
	}
	if !s.conditional.Load() {
		if err := s.probeConditionalWrites(ctx); err != nil {
			return err
		}
		s.conditional.Store(true)
	}
	return nil
}

// ErrNoConditionalWrites is Ready's answer for storage that does not honour If-None-Match and
// If-Match on writes: single-use tokens and codes, the audit chain and every update rest on
// them, so such storage is refused rather than used.
var ErrNoConditionalWrites = errors.New("storage ignores conditional writes (If-None-Match: * and If-Match on PUT), which recordvault's guarantees rest on")

// probeConditionalWrites shows on a scratch object that the bucket refuses a second create and
// an update naming a stale ETag, and takes an update naming the current one.
func (s *Store) probeConditionalWrites(ctx context.Context) (err error) {
	key := "probe/" + strings.ToLower(rand.Text())
	body := []byte("recordvault conditional-write probe")
	etag, err := s.Create(ctx, key, body)
	if err != nil {
		return failed("probe conditional writes", err)
	}
	defer func() {
		if rmErr := s.Delete(ctx, key); err == nil && rmErr != nil {
			err = failed("probe conditional writes", rmErr)
		}
	}()
	if _, err := s.Create(ctx, key, body); !errors.Is(err, object.ErrExists) {
		return fmt.Errorf("%w: a second create of one key did not fail (%v)", ErrNoConditionalWrites, err)
	}
	if _, err := s.Replace(ctx, key, body, `"00000000000000000000000000000000"`); !errors.Is(err, object.ErrChanged) {
		return fmt.Errorf("%w: an update naming a stale ETag did not fail (%v)", ErrNoConditionalWrites, err)
	}
	if _, err := s.Replace(ctx, key, body, etag); err != nil {
		return fmt.Errorf("%w: an update naming the current ETag failed (%v)", ErrNoConditionalWrites, err)
	}
	return nil
}

// EnsureBucket creates the bucket when it does not exist. Production buckets are provisioned
// by their operators; development and tests use this.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("storage: check bucket %s: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{ObjectLocking: s.auditRetention > 0}); err != nil {
		return fmt.Errorf("storage: make bucket %s: %w", s.bucket, err)
	}
	return nil
}

var _ object.Store = (*Store)(nil)

// Create stores body at key only if nothing is there (object.ErrExists otherwise).
func (s *Store) Create(ctx context.Context, key string, body []byte) (etag string, err error) {
	return s.write(ctx, key, bytes.NewReader(body), int64(len(body)), "", time.Time{})
}

// Replace stores body at key only if the object there has ETag etag (object.ErrChanged
// otherwise).
func (s *Store) Replace(ctx context.Context, key string, body []byte, etag string) (string, error) {
	if etag == "" {
		return "", errors.New("storage: replace without an ETag")
	}
	return s.write(ctx, key, bytes.NewReader(body), int64(len(body)), etag, time.Time{})
}

// Read returns the object at key, of at most limit bytes (object.ErrTooLarge past it), and
// its ETag; object.ErrNotFound if there is none.
func (s *Store) Read(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	return s.readVersion(ctx, key, "", limit)
}

// Delete removes the object at key; deleting what is not there is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return failed("remove object", err)
	}
	return nil
}

// validName is one name under a prefix: an id, or a deeper level's with its slash.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}/?$`)

// List returns the names one level under prefix, in key order, after the name after, at most
// limit of them (all when limit is 0): an object's as it is, a deeper level's with a
// trailing "/". S3 pages objects and levels apart, so with a limit the order is exact where a
// prefix holds only objects or only levels, as every prefix of the layout does.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]string, error) {
	dir, ok := strings.CutSuffix(prefix, "/")
	if !ok || checkKey(dir) != nil || (after != "" && !validName.MatchString(after)) {
		return nil, errors.New("storage: invalid listing")
	}
	opts := minio.ListObjectsOptions{Prefix: prefix}
	if after != "" {
		// Past a deeper level's every key too: \x7f sorts above every key character.
		opts.StartAfter = prefix + strings.Replace(after, "/", "/\x7f", 1)
	}
	if limit > 0 {
		opts.MaxKeys = limit
	}
	// The iterator asks for the next page only when the loop goes on: a listing that stops
	// at its limit sends no request past it.
	var names []string
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, opts) {
		if obj.Err != nil {
			return nil, failed("list", obj.Err)
		}
		names = append(names, strings.TrimPrefix(obj.Key, prefix))
		if limit > 0 && len(names) == limit {
			break
		}
	}
	slices.Sort(names)
	return names, nil
}

// AbortUnfinished aborts the uploads to key that were begun and never completed (a writer
// killed mid-stream), freeing their parts. Nothing else reads them: they are no object.
func (s *Store) AbortUnfinished(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := s.client.RemoveIncompleteUpload(ctx, s.bucket, key); err != nil {
		return failed("abort unfinished upload", err)
	}
	return nil
}

// CreateStream writes exactly size bytes from r to key, only if nothing is there when it
// begins (object.ErrExists otherwise). The exact size lets the client stream without
// buffering.
//
// A stream larger than one part goes up as a multipart upload, and its completion is not
// conditional: minio-go sends no If-None-Match with CompleteMultipartUpload, and servers differ
// on the upload's start (MinIO refuses an existing key there, SeaweedFS does not), so the store
// looks first (a HEAD). Two streams racing to one new key are therefore not decided here: the
// caller claims the key first, as records does for an attachment by creating its upload record
// (a small conditional create) before the first byte.
func (s *Store) CreateStream(ctx context.Context, key string, r io.Reader, size int64) (etag string, err error) {
	return s.write(ctx, key, r, size, "", time.Time{})
}

// OpenStream returns a reader of the whole object at key and its size as the server reports
// it, from a single GET (minio-go's Object would send a HEAD first).
func (s *Store) OpenStream(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	obj, info, err := s.openVersion(ctx, key, "")
	if err != nil {
		return nil, 0, err
	}
	return obj, info.Size, nil
}

// OpenRange returns a reader of bytes [start, start+length) of the object at key.
func (s *Store) OpenRange(ctx context.Context, key string, start, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if start < 0 || length <= 0 {
		return nil, errors.New("storage: invalid range")
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(start, start+length-1); err != nil {
		return nil, failed("range", err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, failed("open range", err)
	}
	return obj, nil
}

// CreateRetained is Create for a piece of the audit trail: under Object Lock in compliance
// mode for the store's audit retention, when it has one.
func (s *Store) CreateRetained(ctx context.Context, key string, body []byte) error {
	var until time.Time
	if s.auditRetention > 0 {
		until = time.Now().Add(s.auditRetention)
	}
	_, err := s.write(ctx, key, bytes.NewReader(body), int64(len(body)), "", until)
	return err
}

// ReadVersions returns the stored versions of the object at key, newest first, delete markers
// and versions past limit bytes left out, at most max of them: in a versioned bucket the
// genuine bytes of an object hidden by a delete marker or a newer version are among them. In a
// bucket without versioning, only the current one.
func (s *Store) ReadVersions(ctx context.Context, key string, limit int64, max int) ([][]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var bodies [][]byte
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			return nil, failed("list versions", obj.Err)
		}
		if obj.Key != key || obj.IsDeleteMarker {
			continue
		}
		if len(bodies) == max {
			break
		}
		b, _, err := s.readVersion(ctx, key, obj.VersionID, limit)
		if errors.Is(err, object.ErrTooLarge) {
			continue // not an object the service wrote
		}
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, b)
	}
	return bodies, nil
}

// RestoreVersion makes genuine, one of the stored versions of the object at key, the current
// one again, by removing every version and delete marker put on top of it (newest first), then
// writing it again should key still not read (a stranded version: Reinstate). It needs the
// right to delete object versions, which an operator has and the service need not; under
// Object Lock the genuine version itself cannot be removed. object.ErrNotFound when no stored
// version has those bytes.
func (s *Store) RestoreVersion(ctx context.Context, key string, genuine []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	var above []string // version ids newer than the genuine one, newest first
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			return failed("list versions", obj.Err)
		}
		if obj.Key != key {
			continue
		}
		if !obj.IsDeleteMarker && obj.Size == int64(len(genuine)) {
			b, _, err := s.readVersion(ctx, key, obj.VersionID, int64(len(genuine)))
			if err != nil {
				return err
			}
			if bytes.Equal(b, genuine) {
				for _, id := range above {
					if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: id}); err != nil {
						return failed("remove a version over the genuine one", err)
					}
				}
				return s.writeBack(ctx, key, genuine)
			}
		}
		above = append(above, obj.VersionID)
	}
	return object.ErrNotFound
}

// Reinstate writes genuine at key again, as a new version created under the audit retention,
// when it is the newest stored version of key and yet key reads as absent: a stranded
// version, which a write the server answered with an error can leave (MinIO: a version whose
// drives cannot agree on it as the latest, readable by its version id and not by key;
// docs/RELIABILITY.md). It removes nothing, so the service may do it. nil when key
// reads as genuine already; object.ErrExists when anything else is current or newer (a
// delete marker or another version on top is an operator's to undo: RestoreVersion);
// object.ErrNotFound when key has no stored version.
func (s *Store) Reinstate(ctx context.Context, key string, genuine []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	var newest *minio.ObjectInfo
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			return failed("list versions", obj.Err)
		}
		if obj.Key == key {
			newest = &obj
			break
		}
	}
	switch {
	case newest == nil:
		return object.ErrNotFound
	case newest.IsDeleteMarker || newest.Size != int64(len(genuine)):
		return object.ErrExists
	}
	b, _, err := s.readVersion(ctx, key, newest.VersionID, int64(len(genuine)))
	if err != nil {
		return err
	}
	if !bytes.Equal(b, genuine) {
		return object.ErrExists
	}
	return s.writeBack(ctx, key, genuine)
}

// writeBack makes key read as genuine: nothing to do when it does already, created again when
// key reads as absent, object.ErrExists when it holds other bytes.
func (s *Store) writeBack(ctx context.Context, key string, genuine []byte) error {
	current, _, err := s.readVersion(ctx, key, "", int64(len(genuine)))
	switch {
	case err == nil && bytes.Equal(current, genuine):
		return nil
	case err == nil || errors.Is(err, object.ErrTooLarge):
		return object.ErrExists
	case !errors.Is(err, object.ErrNotFound):
		return err
	}
	return s.CreateRetained(ctx, key, genuine)
}

// write stores exactly size bytes from r at key under a condition: with ifMatch empty the
// object must not exist (If-None-Match: *; object.ErrExists otherwise), else its ETag must be
// ifMatch (object.ErrChanged otherwise); locked in compliance mode until retainUntil when it
// is set.
func (s *Store) write(ctx context.Context, key string, r io.Reader, size int64, ifMatch string, retainUntil time.Time) (etag string, err error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if size < 0 {
		return "", errors.New("storage: object size must be known")
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	if size <= streamPartSize {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
		defer cancel()
	} else {
		if ifMatch == "" {
			if err := s.absent(ctx, key); err != nil {
				return "", err
			}
		}
		// Send parts concurrently: while one part is on the wire the next is read (and so
		// encrypted). Memory is streamThreads part buffers, whatever the object's size.
		opts.ConcurrentStreamParts, opts.NumThreads = true, streamThreads
		opts.PartSize = max(streamPartSize, uint64(size)/maxParts+1)
	}
	if !retainUntil.IsZero() {
		// S3 wants the body's MD5 with a retention (the object is small: a block or a loss).
		opts.Mode, opts.RetainUntilDate, opts.SendContentMd5 = minio.Compliance, retainUntil, true
	}
	conflict := object.ErrExists
	if ifMatch == "" {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(ifMatch)
		conflict = object.ErrChanged
	}
	info, err := s.client.PutObject(ctx, s.bucket, key, r, size, opts)
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.PreconditionFailed {
			return "", conflict
		}
		return "", failed("put object", err)
	}
	return info.ETag, nil
}

// absent returns nil when nothing is at key, object.ErrExists when something is.
func (s *Store) absent(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	switch {
	case err == nil:
		return object.ErrExists
	case minio.ToErrorResponse(err).Code == minio.NoSuchKey:
		return nil
	default:
		return failed("stat object", err)
	}
}

// readVersion reads version versionID ("" for the current one) of the object at key, of at
// most limit bytes (object.ErrTooLarge past it), and its ETag.
func (s *Store) readVersion(ctx context.Context, key, versionID string, limit int64) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	obj, info, err := s.openVersion(ctx, key, versionID)
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, limit+1))
	if err != nil {
		return nil, "", failed("read object", err)
	}
	if int64(len(b)) > limit {
		return nil, "", object.ErrTooLarge
	}
	return b, info.ETag, nil
}

// openVersion returns version versionID ("" for the current one) of the object at key and
// its information, from a single GET.
func (s *Store) openVersion(ctx context.Context, key, versionID string) (io.ReadCloser, minio.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, minio.ObjectInfo{}, err
	}
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{VersionID: versionID})
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, info, object.ErrNotFound
		}
		return nil, info, failed("open object", err)
	}
	return body, info, nil
}

// checkKey refuses any object key outside the narrow alphabet of generated ids. The key itself
// is not echoed: a caller's mistake must not put arbitrary text into an error or a log.
func checkKey(key string) error {
	if !validKey.MatchString(key) {
		return errors.New("storage: invalid object key")
	}
	return nil
}
