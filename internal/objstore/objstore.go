// Package objstore owns TidalDB's access to an S3-compatible bucket: one
// bucket and key prefix, reached with the AWS SDK v2 S3 client (path-style
// or virtual-hosted, static credentials or the SDK's defaults). The
// magnetic tier keeps cold parts there and snapshots are written there;
// both see a Bucket as a flat key space below the prefix.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ErrNotFound reports a key the bucket does not hold.
var ErrNotFound = errors.New("objstore: object not found")

// Config locates a bucket.
type Config struct {
	// Endpoint is the http(s) URL of the S3-compatible service; empty
	// means AWS S3 itself.
	Endpoint string
	// Region defaults to us-east-1.
	Region string
	Bucket string
	// Prefix is prepended to every key ("" or ending in "/" is usual;
	// a missing trailing slash is added).
	Prefix string
	// AccessKeyID and SecretAccessKey are static credentials; empty means
	// anonymous requests.
	AccessKeyID     string
	SecretAccessKey string
	// PathStyle addresses the bucket as endpoint/bucket/key rather than
	// bucket.endpoint/key (most self-hosted servers want it).
	PathStyle bool
}

// Object is one listed key, relative to the prefix.
type Object struct {
	Key  string
	Size int64
}

// Bucket is a key prefix in one bucket. Safe for concurrent use.
type Bucket struct {
	c      *s3.Client
	bucket string
	prefix string
	hc     *http.Client // nil for NewWithClient
}

// New returns the Bucket of cfg; it makes no request.
func New(cfg Config) (*Bucket, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("objstore: bucket is empty")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	o := s3.Options{Region: region, UsePathStyle: cfg.PathStyle, HTTPClient: hc,
		// Requests carry checksums only where S3 requires them, which
		// every S3-compatible server accepts.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.Endpoint != "" {
		o.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cfg.AccessKeyID != "" {
		o.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	} else {
		o.Credentials = aws.AnonymousCredentials{}
	}
	b := NewWithClient(s3.New(o), cfg.Bucket, cfg.Prefix)
	b.hc = hc
	return b, nil
}

// Close closes the idle connections of a Bucket made by New.
func (b *Bucket) Close() {
	if b.hc != nil {
		b.hc.CloseIdleConnections()
	}
}

// NewWithClient returns the Bucket for prefix in bucket reached by c.
func NewWithClient(c *s3.Client, bucket, prefix string) *Bucket {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Bucket{c: c, bucket: bucket, prefix: prefix}
}

// Sub returns the Bucket of a sub-prefix of b.
func (b *Bucket) Sub(prefix string) *Bucket {
	s := NewWithClient(b.c, b.bucket, b.prefix+prefix)
	s.hc = b.hc
	return s
}

// String names the bucket and prefix, s3://bucket/prefix.
func (b *Bucket) String() string { return "s3://" + b.bucket + "/" + b.prefix }

// Put stores size bytes from r under key. r is read from its start again
// if the request is retried.
func (b *Bucket) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error {
	_, err := b.c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.bucket, Key: aws.String(b.prefix + key), Body: r, ContentLength: aws.Int64(size)})
	if err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}

// ReadAt fills p with the bytes of key from off, with one range request.
func (b *Bucket) ReadAt(ctx context.Context, key string, p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	out, err := b.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: aws.String(b.prefix + key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1))})
	if err != nil {
		return fmt.Errorf("read object %s at %d: %w", key, off, notFound(err))
	}
	defer out.Body.Close()
	if _, err := io.ReadFull(out.Body, p); err != nil {
		return fmt.Errorf("read object %s at %d: %w", key, off, err)
	}
	return nil
}

// Get opens key for reading from its start.
func (b *Bucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := b.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: aws.String(b.prefix + key)})
	if err != nil {
		return nil, fmt.Errorf("get object %s: %w", key, notFound(err))
	}
	return out.Body, nil
}

// Size returns the size of key, or ErrNotFound.
func (b *Bucket) Size(ctx context.Context, key string) (int64, error) {
	out, err := b.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(b.prefix + key)})
	if err != nil {
		return 0, fmt.Errorf("head object %s: %w", key, notFound(err))
	}
	return aws.ToInt64(out.ContentLength), nil
}

// List returns every key below prefix, in key order.
func (b *Bucket) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	p := s3.NewListObjectsV2Paginator(b.c, &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: aws.String(b.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list objects %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, Object{Key: strings.TrimPrefix(aws.ToString(o.Key), b.prefix), Size: aws.ToInt64(o.Size)})
		}
	}
	return out, nil
}

// Delete removes key; a missing key is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if _, err := b.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: aws.String(b.prefix + key)}); err != nil {
		if errors.Is(notFound(err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	return nil
}

func notFound(err error) error {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nk) || errors.As(err, &nf) {
		return errors.Join(ErrNotFound, err)
	}
	return err
}
