package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/huella-abis/huella"
)

// S3Store is a BlobStore in a bucket of an S3-compatible object store, with
// the encryption and naming of FileStore (the objects hold the same bytes as
// the files): objects PREFIX/ab/cd/<ref>. The store only ever sees
// ciphertext; the data key stays with Huella.
type S3Store struct {
	*sealer
	client  *minio.Client
	bucket  string
	prefix  string // "" or ending in "/"
	MaxSize int    // bytes; DefaultMaxSize when zero
}

var _ huella.BlobStore = (*S3Store)(nil)

// s3PutConcurrency bounds the uploads of one PutAll.
const s3PutConcurrency = 4

// OpenS3 opens the store that rawURL names,
//
//	s3://BUCKET[/PREFIX]?endpoint=HOST[:PORT][&region=REGION][&insecure=true]
//
// with the 32-byte data key. The endpoint defaults to AWS's; insecure=true
// speaks plain HTTP to it (for a server on the same host). Credentials come
// from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, else $MINIO_ACCESS_KEY
// and $MINIO_SECRET_KEY, else the instance's role. The bucket must exist:
// Huella does not create buckets, whose policies are the operator's.
func OpenS3(ctx context.Context, rawURL string, key []byte) (*S3Store, error) {
	sl, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("blob: %q is not s3://BUCKET[/PREFIX]?endpoint=…", rawURL)
	}
	q := u.Query()
	for k := range q {
		if k != "endpoint" && k != "region" && k != "insecure" {
			return nil, fmt.Errorf("blob: unknown S3 option %q (endpoint, region, insecure)", k)
		}
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	insecure := q.Get("insecure") == "true"
	if !insecure && q.Get("insecure") != "" && q.Get("insecure") != "false" {
		return nil, fmt.Errorf("blob: insecure must be true or false")
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.IAM{},
	})
	client, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: !insecure, Region: q.Get("region")})
	if err != nil {
		return nil, fmt.Errorf("blob: S3 client: %w", err)
	}
	s := &S3Store{sealer: sl, client: client, bucket: u.Host, prefix: strings.Trim(u.Path, "/")}
	if s.prefix != "" {
		s.prefix += "/"
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ok, err := client.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: S3 bucket %s at %s: %w", s.bucket, endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("blob: S3 bucket %s does not exist at %s: create it first", s.bucket, endpoint)
	}
	return s, nil
}

func (s *S3Store) object(ref string) string {
	return s.prefix + ref[:2] + "/" + ref[2:4] + "/" + ref
}

// Put encrypts data and uploads it; S3 acknowledges a PUT once the object
// is stored durably. A blob stored already is uploaded again, which renews
// its time for Sweep until the record naming it is committed.
func (s *S3Store) Put(ctx context.Context, data []byte) (string, error) {
	if err := s.refresh(ctx); err != nil {
		return "", err
	}
	return s.put(ctx, data)
}

// put stores one blob with the keys as they are.
func (s *S3Store) put(ctx context.Context, data []byte) (string, error) {
	if err := checkSize(data, s.MaxSize); err != nil {
		return "", err
	}
	ref := s.Ref(data)
	sealed, err := s.seal(ref, data)
	if err != nil {
		return "", err
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.object(ref), bytes.NewReader(sealed), int64(len(sealed)),
		minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return "", fmt.Errorf("blob: S3 put: %w", err)
	}
	return ref, nil
}

// PutAll uploads the blobs, a few at a time; all are stored when it returns
// without error. After an error some may be: Sweep removes them.
func (s *S3Store) PutAll(ctx context.Context, blobs [][]byte) ([]string, error) {
	for _, b := range blobs {
		if err := checkSize(b, s.MaxSize); err != nil {
			return nil, err
		}
	}
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	refs := make([]string, len(blobs))
	errs := make([]error, len(blobs))
	sem := make(chan struct{}, s3PutConcurrency)
	var wg sync.WaitGroup
	for i, b := range blobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			refs[i], errs[i] = s.put(ctx, b)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return refs, nil
}

// Get downloads and decrypts a blob.
func (s *S3Store) Get(ctx context.Context, ref string) ([]byte, error) {
	if !validRef(ref) {
		return nil, huella.Errorf(huella.ENOTFOUND, "blob not found")
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.object(ref), minio.GetObjectOptions{})
	if err != nil {
		return nil, s3Error(err)
	}
	defer obj.Close()
	maxSize := s.MaxSize
	if maxSize == 0 {
		maxSize = DefaultMaxSize
	}
	raw, err := io.ReadAll(io.LimitReader(obj, int64(maxSize)+1024))
	if err != nil {
		return nil, s3Error(err)
	}
	return s.open(ref, raw)
}

// s3Error maps a missing object to ENOTFOUND.
func s3Error(err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return huella.Errorf(huella.ENOTFOUND, "blob not found")
	}
	return fmt.Errorf("blob: S3 get: %w", err)
}

// Delete removes a blob; a missing blob is not an error.
func (s *S3Store) Delete(ctx context.Context, ref string) error {
	if !validRef(ref) {
		return nil
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.object(ref), minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("blob: S3 delete: %w", err)
	}
	return nil
}

// Close releases nothing: the client's connections are pooled.
func (s *S3Store) Close() error { return nil }

// Sweep deletes the blobs no record references, as FileStore.Sweep does:
// objects last written before before, listed first, then spared if refs
// names them or if they were written again since the listing.
func (s *S3Store) Sweep(ctx context.Context, before time.Time, refs func(ctx context.Context, fn func(ref string) error) error, dryRun bool) (*SweepReport, error) {
	r := &SweepReport{}
	candidates := make(map[[32]byte]int64)
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("blob: sweep: %w", obj.Err)
		}
		name := path.Base(obj.Key)
		if !validRef(name) || s.object(name) != obj.Key {
			continue // not ours: left alone
		}
		r.Blobs++
		if obj.LastModified.Before(before) {
			candidates[refKey(name)] = obj.Size
		}
	}
	if err := refs(ctx, func(ref string) error {
		if validRef(ref) {
			delete(candidates, refKey(ref))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("blob: sweep: %w", err)
	}
	r.Orphans = len(candidates)
	for _, size := range candidates {
		r.Bytes += size
	}
	if dryRun {
		return r, nil
	}
	for key := range candidates {
		name := s.object(fmt.Sprintf("%x", key[:]))
		info, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
		if err != nil || !info.LastModified.Before(before) {
			continue // gone, or stored again since the listing
		}
		if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil {
			return r, fmt.Errorf("blob: sweep: %w", err)
		}
		r.Deleted++
	}
	return r, nil
}
