package main

import (
	"fmt"

	"github.com/tidaldb/tidal/internal/config"
	"github.com/tidaldb/tidal/internal/objstore"
	"github.com/tidaldb/tidal/magnetic"
)

// objectStorage sets the magnetic tier's object store from storage.object;
// without a bucket it leaves the options alone.
func objectStorage(c config.ObjectStorage, o *magnetic.Options) error {
	if c.Bucket == "" {
		return nil
	}
	b, err := objstore.New(objectConfig(c))
	if err != nil {
		return fmt.Errorf("open object storage: %w", err)
	}
	o.Object = &magnetic.ObjectOptions{Store: b, UploadAge: c.UploadAge, CacheBytes: int(c.CacheSize)}
	return nil
}

func objectConfig(c config.ObjectStorage) objstore.Config {
	return objstore.Config{Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket, Prefix: c.Prefix,
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, PathStyle: c.PathStyle}
}
