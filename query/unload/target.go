package unload

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tidaldb/tidal/internal/fileutil"
)

// Object is one file being written to a target. Close makes it visible
// under its final name; Abort drops it.
type Object interface {
	io.Writer
	Close() error
	Abort()
}

// Target stores UNLOAD output under one scheme.
type Target interface {
	// Create starts the object at the location (bucket, key) of a TO URL
	// joined with a relative name.
	Create(ctx context.Context, bucket, key string) (Object, error)
}

// FileTarget writes file:// locations under Root: file:///a/b names
// Root/a/b, so a query can write nowhere else.
type FileTarget struct {
	Root string
	FS   fileutil.FS // nil means fileutil.OS
}

// Create opens a temporary file beside the final one.
func (t *FileTarget) Create(_ context.Context, _, key string) (Object, error) {
	fsys := t.FS
	if fsys == nil {
		fsys = fileutil.OS
	}
	final := filepath.Join(t.Root, filepath.FromSlash(key))
	if !strings.HasPrefix(final, filepath.Clean(t.Root)+string(filepath.Separator)) {
		return nil, fmt.Errorf("create %s: outside the unload root", key)
	}
	if err := fileutil.MkdirAll(fsys, filepath.Dir(final), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", final, err)
	}
	tmp := final + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	return &fileObject{fsys: fsys, f: f, bw: bufio.NewWriterSize(f, fileBuffer), tmp: tmp, final: final}, nil
}

// fileBuffer is the write buffer of a file:// object: rows arrive one at
// a time, the disk sees large writes.
const fileBuffer = 256 << 10

type fileObject struct {
	fsys       fileutil.FS
	f          fileutil.File
	bw         *bufio.Writer
	tmp, final string
}

func (o *fileObject) Write(p []byte) (int, error) { return o.bw.Write(p) }

func (o *fileObject) Close() error {
	if err := o.bw.Flush(); err != nil {
		o.Abort()
		return fmt.Errorf("write %s: %w", o.tmp, err)
	}
	if err := o.f.Sync(); err != nil {
		o.Abort()
		return fmt.Errorf("sync %s: %w", o.tmp, err)
	}
	if err := o.f.Close(); err != nil {
		_ = fileutil.Remove(o.fsys, o.tmp)
		return fmt.Errorf("close %s: %w", o.tmp, err)
	}
	if err := fileutil.Rename(o.fsys, o.tmp, o.final); err != nil {
		_ = fileutil.Remove(o.fsys, o.tmp)
		return fmt.Errorf("rename %s: %w", o.final, err)
	}
	return nil
}

func (o *fileObject) Abort() {
	_ = o.f.Close()
	_ = fileutil.Remove(o.fsys, o.tmp)
}

// S3Config is the unload.s3 configuration: an S3-compatible endpoint.
type S3Config struct {
	Endpoint        string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	PathStyle       bool
}

// S3Target writes s3:// locations with the AWS SDK's S3 client: objects
// up to PartSize with one PutObject, larger ones as multipart uploads
// of PartSize parts, so at most one part per open file is in memory.
type S3Target struct {
	Client *s3.Client
	// PartSize must be at least 5 MiB for S3 and servers that enforce its
	// limit (SeaweedFS answers EntityTooSmall on completion); smaller
	// parts are for tests against servers that do not.
	PartSize int
}

// DefaultPartSize is the multipart upload part size (S3's minimum is 5 MiB).
const DefaultPartSize = 8 << 20

// NewS3Target builds the client for cfg.
func NewS3Target(cfg S3Config) *S3Target {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	c := s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		UsePathStyle: cfg.PathStyle,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
	})
	return &S3Target{Client: c, PartSize: DefaultPartSize}
}

// Create starts an upload that is finished by Close.
func (t *S3Target) Create(ctx context.Context, bucket, key string) (Object, error) {
	ps := t.PartSize
	if ps <= 0 {
		ps = DefaultPartSize
	}
	return &s3Object{ctx: ctx, c: t.Client, bucket: bucket, key: key, partSize: ps}, nil
}

type s3Object struct {
	ctx         context.Context
	c           *s3.Client
	bucket, key string
	partSize    int
	buf         bytes.Buffer
	uploadID    *string
	parts       []types.CompletedPart
}

func (o *s3Object) Write(p []byte) (int, error) {
	n, _ := o.buf.Write(p)
	for o.buf.Len() >= o.partSize {
		if err := o.flushPart(o.buf.Next(o.partSize)); err != nil {
			return n, err
		}
	}
	if o.buf.Len() == 0 {
		o.buf.Reset()
	}
	return n, nil
}

func (o *s3Object) flushPart(b []byte) error {
	if o.uploadID == nil {
		out, err := o.c.CreateMultipartUpload(o.ctx, &s3.CreateMultipartUploadInput{Bucket: &o.bucket, Key: &o.key})
		if err != nil {
			return fmt.Errorf("start upload s3://%s/%s: %w", o.bucket, o.key, err)
		}
		o.uploadID = out.UploadId
	}
	num := int32(len(o.parts) + 1)
	out, err := o.c.UploadPart(o.ctx, &s3.UploadPartInput{Bucket: &o.bucket, Key: &o.key, UploadId: o.uploadID,
		PartNumber: aws.Int32(num), Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b)))})
	if err != nil {
		return fmt.Errorf("upload part %d of s3://%s/%s: %w", num, o.bucket, o.key, err)
	}
	o.parts = append(o.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
	return nil
}

func (o *s3Object) Close() error {
	if o.uploadID == nil {
		_, err := o.c.PutObject(o.ctx, &s3.PutObjectInput{Bucket: &o.bucket, Key: &o.key,
			Body: bytes.NewReader(o.buf.Bytes()), ContentLength: aws.Int64(int64(o.buf.Len()))})
		if err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", o.bucket, o.key, err)
		}
		return nil
	}
	if o.buf.Len() > 0 {
		if err := o.flushPart(o.buf.Bytes()); err != nil {
			o.Abort()
			return err
		}
	}
	_, err := o.c.CompleteMultipartUpload(o.ctx, &s3.CompleteMultipartUploadInput{Bucket: &o.bucket, Key: &o.key,
		UploadId: o.uploadID, MultipartUpload: &types.CompletedMultipartUpload{Parts: o.parts}})
	if err != nil {
		o.Abort()
		return fmt.Errorf("complete upload s3://%s/%s: %w", o.bucket, o.key, err)
	}
	return nil
}

// Abort drops a started multipart upload (best effort, with a context
// that outlives a cancelled query).
func (o *s3Object) Abort() {
	if o.uploadID != nil {
		_, _ = o.c.AbortMultipartUpload(context.WithoutCancel(o.ctx), &s3.AbortMultipartUploadInput{
			Bucket: &o.bucket, Key: &o.key, UploadId: o.uploadID})
		o.uploadID = nil
	}
	o.buf.Reset()
}

var errNoTarget = errors.New("no target configured")
