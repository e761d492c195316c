package objstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/internal/objstore"
	"github.com/tidaldb/tidal/internal/testutil/s3server"
)

func TestBucket(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "objs")
	b, err := objstore.New(objstore.Config{Endpoint: srv.Endpoint, Bucket: "objs", Prefix: "a/b", PathStyle: true,
		AccessKeyID: s3server.AccessKeyID, SecretAccessKey: s3server.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	for _, k := range []string{"x/1", "x/2", "y"} {
		if err := b.Put(ctx, k, strings.NewReader("hello "+k), int64(len("hello "+k))); err != nil {
			t.Fatal(err)
		}
	}
	sub := b.Sub("x")
	objs, err := sub.List(ctx, "")
	if err != nil || len(objs) != 2 || objs[0].Key != "1" || objs[1].Key != "2" || objs[0].Size != 9 {
		t.Fatalf("list = %+v, %v", objs, err)
	}
	p := make([]byte, 3)
	if err := b.ReadAt(ctx, "x/2", p, 6); err != nil || string(p) != "x/2" {
		t.Fatalf("read = %q, %v", p, err)
	}
	if n, err := b.Size(ctx, "y"); err != nil || n != 7 {
		t.Fatalf("size = %d, %v", n, err)
	}
	if err := b.Delete(ctx, "y"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "y"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	for name, err := range map[string]error{
		"size": func() error { _, err := b.Size(ctx, "y"); return err }(),
		"read": b.ReadAt(ctx, "y", p, 0),
		"get":  func() error { _, err := b.Get(ctx, "y"); return err }(),
	} {
		if !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("%s of a missing key: %v", name, err)
		}
	}
	if _, err := objstore.New(objstore.Config{}); err == nil {
		t.Fatal("a config without bucket was accepted")
	}
	if got := sub.String(); got != "s3://objs/a/b/x/" {
		t.Fatalf("String = %q", got)
	}
}
