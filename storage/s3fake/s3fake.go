// Package s3fake is an in-memory S3 endpoint for unit tests: enough of the API for
// storage.Store (buckets, conditional PUTs, GETs with a byte range, DELETEs, ListObjectsV2,
// and the versions listing of an unversioned bucket: each object's one version), so that the
// service's own storage code runs without Docker. It is a fake: no versioning,
// no Object Lock, no multipart uploads (keep test objects under 5 MiB). The integration tests
// run against a real MinIO. Strand makes an object look as a write MinIO refused can leave it.
package s3fake

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the fake endpoint.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	buckets map[string]map[string]object
	touched []string // the key, or the listing's prefix, of every request
}

type object struct {
	body     []byte
	etag     string
	modified time.Time
	stranded bool // listed among the versions and read by version id only (Strand)
	unread   bool // listed, yet "not found" when read by its key (Unread)
}

// New starts a fake endpoint; Close stops it.
func New() *Server {
	s := &Server{buckets: map[string]map[string]object{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Endpoint is host:port, as storage.Config takes it.
func (s *Server) Endpoint() string { return strings.TrimPrefix(s.URL, "http://") }

// Keys lists every object key of bucket, sorted.
func (s *Server) Keys(bucket string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.buckets[bucket] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Strand leaves the object at key of bucket stranded, as MinIO's erasure set can leave a write
// it answered "unwritable" (its version on too few drives to agree on): listed among the
// object's versions and readable by its version id, while the key reads as absent, lists as
// absent and takes a create (If-None-Match: *). docs/RELIABILITY.md.
func (s *Server) Strand(bucket, key string) {
	s.change(bucket, key, func(o *object) { o.stranded = true })
}

// Unread leaves the object at key of bucket listed, yet answered "not found" when read by its
// key, as MinIO answered for a moment after a restart of its whole set (docs/RELIABILITY.md).
func (s *Server) Unread(bucket, key string) {
	s.change(bucket, key, func(o *object) { o.unread = true })
}

// change applies f to the object at key of bucket, if there is one.
func (s *Server) change(bucket, key string, f func(*object)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.buckets[bucket][key]; ok {
		f(&o)
		s.buckets[bucket][key] = o
	}
}

// Touched counts the requests so far whose object key, or whose listing's prefix, begins
// with prefix: what a test reads to show that an operation's storage work does not grow with
// what is stored under it.
func (s *Server) Touched(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.touched {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	objects, exists := s.buckets[bucket]
	if key != "" {
		s.touched = append(s.touched, key)
	} else if r.URL.Query().Has("prefix") {
		s.touched = append(s.touched, r.URL.Query().Get("prefix"))
	}
	switch {
	case key == "" && r.Method == http.MethodHead:
		if !exists {
			w.WriteHeader(http.StatusNotFound)
		}
	case key == "" && r.Method == http.MethodPut:
		if !exists {
			s.buckets[bucket] = map[string]object{}
		}
	case key == "" && r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		s.list(w, r, objects)
	case key == "" && r.Method == http.MethodGet && r.URL.Query().Has("versions"):
		versions(w, r, objects)
	case !exists:
		fail(w, http.StatusNotFound, "NoSuchBucket")
	case r.Method == http.MethodPut:
		s.put(w, r, objects, key)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		get(w, r, objects, key)
	case r.Method == http.MethodDelete:
		delete(objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(w, http.StatusNotImplemented, "NotImplemented")
	}
}

func (s *Server) put(w http.ResponseWriter, r *http.Request, objects map[string]object, key string) {
	body, err := readBody(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "IncompleteBody")
		return
	}
	current, found := objects[key]
	found = found && !current.stranded
	if r.Header.Get("If-None-Match") == "*" && found || r.Header.Get("If-Match") != "" && (!found || r.Header.Get("If-Match") != current.etag) {
		fail(w, http.StatusPreconditionFailed, "PreconditionFailed")
		return
	}
	sum := md5.Sum(body)
	o := object{body: body, etag: `"` + hex.EncodeToString(sum[:]) + `"`, modified: time.Now().UTC()}
	objects[key] = o
	w.Header().Set("ETag", o.etag)
}

// readBody reads a PUT's body, decoding the aws-chunked framing minio-go signs it in.
func readBody(r *http.Request) ([]byte, error) {
	if r.Header.Get("Content-Encoding") != "aws-chunked" && !strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return io.ReadAll(r.Body)
	}
	var out bytes.Buffer
	br := bufio.NewReader(r.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(size, 16, 64)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out.Bytes(), nil
		}
		if _, err := io.CopyN(&out, br, n); err != nil {
			return nil, err
		}
		if _, err := br.Discard(2); err != nil { // the chunk's CRLF
			return nil, err
		}
	}
}

func get(w http.ResponseWriter, r *http.Request, objects map[string]object, key string) {
	o, found := objects[key]
	if !found || (o.stranded || o.unread) && r.URL.Query().Get("versionId") == "" {
		fail(w, http.StatusNotFound, "NoSuchKey")
		return
	}
	w.Header().Set("ETag", o.etag)
	w.Header().Set("Last-Modified", o.modified.Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/octet-stream")
	body, status := o.body, http.StatusOK
	if spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
		first, last, _ := strings.Cut(spec, "-")
		a, _ := strconv.ParseInt(first, 10, 64)
		b := int64(len(body)) - 1
		if last != "" {
			b, _ = strconv.ParseInt(last, 10, 64)
		}
		b = min(b, int64(len(body))-1)
		if a > b {
			fail(w, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
			return
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, len(body)))
		body, status = body[a:b+1], http.StatusPartialContent
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

type listResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Name                  string
	Prefix                string
	KeyCount              int
	MaxKeys               int
	IsTruncated           bool
	NextContinuationToken string     `xml:",omitempty"`
	Contents              []contents `xml:"Contents"`
	CommonPrefixes        []prefix   `xml:"CommonPrefixes"`
}

type contents struct {
	Key          string
	LastModified string
	ETag         string
	Size         int
}

type prefix struct{ Prefix string }

// list answers ListObjectsV2: keys under prefix, after start-after or the continuation
// token, grouped by delimiter, at most max-keys.
func (s *Server) list(w http.ResponseWriter, r *http.Request, objects map[string]object) {
	q := r.URL.Query()
	pfx, delim := q.Get("prefix"), q.Get("delimiter")
	after := max(q.Get("start-after"), q.Get("continuation-token"))
	limit, err := strconv.Atoi(q.Get("max-keys"))
	if err != nil || limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var keys []string
	for k, o := range objects {
		if strings.HasPrefix(k, pfx) && k > after && !o.stranded {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	res := listResult{Name: r.URL.Path, Prefix: pfx, MaxKeys: limit}
	seen := map[string]bool{}
	for _, k := range keys {
		if res.KeyCount == limit {
			res.IsTruncated = true
			break
		}
		if delim != "" {
			if i := strings.Index(k[len(pfx):], delim); i >= 0 {
				p := k[:len(pfx)+i+len(delim)]
				if !seen[p] {
					seen[p] = true
					res.CommonPrefixes = append(res.CommonPrefixes, prefix{p})
					res.KeyCount++
					res.NextContinuationToken = p + "~" // past every key under p: keys use [a-z0-9_./-]
				}
				continue
			}
		}
		o := objects[k]
		res.Contents = append(res.Contents, contents{Key: k, LastModified: o.modified.Format(time.RFC3339), ETag: o.etag, Size: len(o.body)})
		res.KeyCount++
		res.NextContinuationToken = k
	}
	if !res.IsTruncated {
		res.NextContinuationToken = ""
	}
	w.Header().Set("Content-Type", "application/xml")
	xml.NewEncoder(w).Encode(res)
}

type versionsResult struct {
	XMLName     xml.Name `xml:"ListVersionsResult"`
	Name        string
	Prefix      string
	MaxKeys     int
	IsTruncated bool
	Version     []version `xml:"Version"`
}

type version struct {
	Key          string
	VersionId    string
	IsLatest     bool
	LastModified string
	ETag         string
	Size         int
}

// versions answers ListObjectVersions as an unversioned bucket does: each object under
// prefix once, as version "null".
func versions(w http.ResponseWriter, r *http.Request, objects map[string]object) {
	pfx := r.URL.Query().Get("prefix")
	res := versionsResult{Name: r.URL.Path, Prefix: pfx, MaxKeys: 1000}
	for _, k := range slices.Sorted(maps.Keys(objects)) {
		if o := objects[k]; strings.HasPrefix(k, pfx) {
			res.Version = append(res.Version, version{Key: k, VersionId: "null", IsLatest: true,
				LastModified: o.modified.Format(time.RFC3339), ETag: o.etag, Size: len(o.body)})
		}
	}
	w.Header().Set("Content-Type", "application/xml")
	xml.NewEncoder(w).Encode(res)
}

func fail(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
}
