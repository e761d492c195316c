package s3server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tidaldb/tidal/internal/testutil/s3server"
)

// TestServerAPI checks, with the AWS SDK v2 client, every S3 call the
// project relies on: put, ranged get, head, paged listing, copy, delete
// and multipart upload, path-style.
func TestServerAPI(t *testing.T) {
	srv := s3server.Start(t)
	c := srv.Client()
	ctx := context.Background()
	b := srv.Bucket(t, "api")
	body := []byte("0123456789abcdefghij")
	for i := range 5 {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String(fmt.Sprintf("p/k%d", i)), Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	ranges := []struct {
		rng  string
		want string
	}{
		{"bytes=0-3", "0123"},
		{"bytes=10-19", "abcdefghij"},
		{"bytes=18-", "ij"},
	}
	for _, tc := range ranges {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("p/k0"), Range: aws.String(tc.rng)})
		if err != nil {
			t.Fatalf("get %s: %v", tc.rng, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != tc.want {
			t.Errorf("range %s = %q, want %q", tc.rng, got, tc.want)
		}
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("p/k1")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(body)) {
		t.Fatalf("head = %v, %v", head, err)
	}
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &b, Prefix: aws.String("p/"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	if fmt.Sprint(keys) != "[p/k0 p/k1 p/k2 p/k3 p/k4]" {
		t.Fatalf("listed %v", keys)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("q/copy"), CopySource: aws.String(b + "/p/k2")}); err != nil {
		t.Fatalf("copy: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("p/k2")}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("p/k2")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("head of deleted object: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("q/copy")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("copy = %q", got)
	}

	// Multipart: S3's least part size (5 MiB) for every part but the last.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("big")})
	if err != nil {
		t.Fatalf("create multipart: %v", err)
	}
	part1 := bytes.Repeat([]byte{'a'}, 5<<20)
	part2 := []byte("tail")
	var done []types.CompletedPart
	for i, pb := range [][]byte{part1, part2} {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("big"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(pb)})
		if err != nil {
			t.Fatalf("upload part %d: %v", i+1, err)
		}
		done = append(done, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("big"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatalf("complete multipart: %v", err)
	}
	out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("big"), Range: aws.String(fmt.Sprintf("bytes=%d-", 5<<20-2))})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "aatail" {
		t.Fatalf("multipart tail = %q", got)
	}
}
