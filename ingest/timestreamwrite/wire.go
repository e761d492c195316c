package timestreamwrite

import (
	"fmt"
	"strings"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/internal/awsjson"
)

// Wire types of the control-plane operations and their conversions to and
// from catalog types, with the validation messages Timestream gives.

// Wire shapes of the control-plane operations. Pointer members distinguish
// "absent" from the zero value so required members can be checked.

type wireTag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

type wireRetention struct {
	MemoryStoreRetentionPeriodInHours  *int64 `json:"MemoryStoreRetentionPeriodInHours"`
	MagneticStoreRetentionPeriodInDays *int64 `json:"MagneticStoreRetentionPeriodInDays"`
}

type wireS3Configuration struct {
	BucketName       *string `json:"BucketName,omitempty"`
	ObjectKeyPrefix  *string `json:"ObjectKeyPrefix,omitempty"`
	EncryptionOption *string `json:"EncryptionOption,omitempty"`
	KmsKeyID         *string `json:"KmsKeyId,omitempty"`
}

type wireRejectedDataLocation struct {
	S3Configuration *wireS3Configuration `json:"S3Configuration,omitempty"`
}

type wireMagneticWrites struct {
	EnableMagneticStoreWrites         *bool                     `json:"EnableMagneticStoreWrites"`
	MagneticStoreRejectedDataLocation *wireRejectedDataLocation `json:"MagneticStoreRejectedDataLocation,omitempty"`
}

type wirePartitionKey struct {
	Type                *string `json:"Type"`
	Name                *string `json:"Name,omitempty"`
	EnforcementInRecord *string `json:"EnforcementInRecord,omitempty"`
}

type wireSchema struct {
	CompositePartitionKey []wirePartitionKey `json:"CompositePartitionKey"`
}

type wireDatabase struct {
	Arn             string            `json:"Arn"`
	DatabaseName    string            `json:"DatabaseName"`
	TableCount      int64             `json:"TableCount"`
	KmsKeyID        string            `json:"KmsKeyId,omitempty"`
	CreationTime    awsjson.Timestamp `json:"CreationTime"`
	LastUpdatedTime awsjson.Timestamp `json:"LastUpdatedTime"`
}

type wireTable struct {
	Arn                          string             `json:"Arn"`
	TableName                    string             `json:"TableName"`
	DatabaseName                 string             `json:"DatabaseName"`
	TableStatus                  string             `json:"TableStatus"`
	RetentionProperties          wireRetention      `json:"RetentionProperties"`
	CreationTime                 awsjson.Timestamp  `json:"CreationTime"`
	LastUpdatedTime              awsjson.Timestamp  `json:"LastUpdatedTime"`
	MagneticStoreWriteProperties wireMagneticWrites `json:"MagneticStoreWriteProperties"`
	Schema                       wireSchema         `json:"Schema"`
}

type databaseResponse struct {
	Database wireDatabase `json:"Database"`
}

type tableResponse struct {
	Table wireTable `json:"Table"`
}

// Coral-style validation messages, as the AWS front end words them.

func missing(member string) *awsjson.Error {
	return awsjson.Validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func tooLong(member string, max int) *awsjson.Error {
	return awsjson.Validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", member, max)
}

func tooShort(member string, min int) *awsjson.Error {
	return awsjson.Validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", member, min)
}

func notInEnum(member, value string, allowed ...string) *awsjson.Error {
	return awsjson.Validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", value, member, strings.Join(allowed, ", "))
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// requireName checks that a required name member is present.
func requireName(member string, v *string) (string, *awsjson.Error) {
	if v == nil {
		return "", missing(lowerFirst(member))
	}
	return *v, nil
}

func (a *API) databaseOut(d catalog.Database) wireDatabase {
	return wireDatabase{
		Arn:             a.cat.DatabaseARN(d.Name),
		DatabaseName:    d.Name,
		TableCount:      int64(d.TableCount),
		KmsKeyID:        d.KmsKeyID,
		CreationTime:    awsjson.Timestamp(d.Created),
		LastUpdatedTime: awsjson.Timestamp(d.Updated),
	}
}

func strPtr(s string) *string { return &s }

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *API) tableOut(t catalog.Table) wireTable {
	mem, mag, enabled := t.Retention.MemoryHours, t.Retention.MagneticDays, t.MagneticWrites.Enabled
	out := wireTable{
		Arn:                          a.cat.TableARN(t.Database, t.Name),
		TableName:                    t.Name,
		DatabaseName:                 t.Database,
		TableStatus:                  t.Status,
		RetentionProperties:          wireRetention{MemoryStoreRetentionPeriodInHours: &mem, MagneticStoreRetentionPeriodInDays: &mag},
		CreationTime:                 awsjson.Timestamp(t.Created),
		LastUpdatedTime:              awsjson.Timestamp(t.Updated),
		MagneticStoreWriteProperties: wireMagneticWrites{EnableMagneticStoreWrites: &enabled},
		Schema:                       wireSchema{CompositePartitionKey: []wirePartitionKey{}},
	}
	if m := t.MagneticWrites; m.S3Bucket != "" || m.S3Prefix != "" || m.S3EncryptionOption != "" || m.S3KmsKeyID != "" {
		out.MagneticStoreWriteProperties.MagneticStoreRejectedDataLocation = &wireRejectedDataLocation{S3Configuration: &wireS3Configuration{
			BucketName: optStr(m.S3Bucket), ObjectKeyPrefix: optStr(m.S3Prefix),
			EncryptionOption: optStr(m.S3EncryptionOption), KmsKeyID: optStr(m.S3KmsKeyID),
		}}
	}
	for _, k := range t.PartitionKeys {
		out.Schema.CompositePartitionKey = append(out.Schema.CompositePartitionKey, wirePartitionKey{
			Type: strPtr(k.Type), Name: optStr(k.Name), EnforcementInRecord: optStr(k.Enforcement),
		})
	}
	return out
}

func tagsIn(member string, tags []wireTag) ([]catalog.Tag, *awsjson.Error) {
	if len(tags) > catalog.MaxTagsPerResource {
		return nil, tooLong(member, catalog.MaxTagsPerResource)
	}
	out := make([]catalog.Tag, 0, len(tags))
	for i, t := range tags {
		if t.Key == nil {
			return nil, missing(fmt.Sprintf("%s.%d.member.key", member, i+1))
		}
		if t.Value == nil {
			return nil, missing(fmt.Sprintf("%s.%d.member.value", member, i+1))
		}
		out = append(out, catalog.Tag{Key: *t.Key, Value: *t.Value})
	}
	return out, nil
}

func tagsOut(tags []catalog.Tag) []wireTag {
	out := make([]wireTag, len(tags))
	for i, t := range tags {
		out[i] = wireTag{Key: strPtr(t.Key), Value: strPtr(t.Value)}
	}
	return out
}

func retentionIn(r *wireRetention) (catalog.Retention, *awsjson.Error) {
	if r.MemoryStoreRetentionPeriodInHours == nil {
		return catalog.Retention{}, missing("retentionProperties.memoryStoreRetentionPeriodInHours")
	}
	if r.MagneticStoreRetentionPeriodInDays == nil {
		return catalog.Retention{}, missing("retentionProperties.magneticStoreRetentionPeriodInDays")
	}
	return catalog.Retention{MemoryHours: *r.MemoryStoreRetentionPeriodInHours, MagneticDays: *r.MagneticStoreRetentionPeriodInDays}, nil
}

func magneticIn(m *wireMagneticWrites) (catalog.MagneticWrites, *awsjson.Error) {
	if m.EnableMagneticStoreWrites == nil {
		return catalog.MagneticWrites{}, missing("magneticStoreWriteProperties.enableMagneticStoreWrites")
	}
	out := catalog.MagneticWrites{Enabled: *m.EnableMagneticStoreWrites}
	if loc := m.MagneticStoreRejectedDataLocation; loc != nil && loc.S3Configuration != nil {
		s3 := loc.S3Configuration
		deref := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		out.S3Bucket, out.S3Prefix = deref(s3.BucketName), deref(s3.ObjectKeyPrefix)
		out.S3EncryptionOption, out.S3KmsKeyID = deref(s3.EncryptionOption), deref(s3.KmsKeyID)
		if out.S3EncryptionOption != "" && out.S3EncryptionOption != catalog.EncryptionSSES3 && out.S3EncryptionOption != catalog.EncryptionSSEKMS {
			return catalog.MagneticWrites{}, notInEnum("magneticStoreWriteProperties.magneticStoreRejectedDataLocation.s3Configuration.encryptionOption",
				out.S3EncryptionOption, catalog.EncryptionSSES3, catalog.EncryptionSSEKMS)
		}
	}
	return out, nil
}

func schemaIn(s *wireSchema) ([]catalog.PartitionKey, *awsjson.Error) {
	if s.CompositePartitionKey == nil {
		return nil, nil
	}
	if len(s.CompositePartitionKey) == 0 {
		return nil, tooShort("schema.compositePartitionKey", 1)
	}
	keys := make([]catalog.PartitionKey, 0, len(s.CompositePartitionKey))
	for i, k := range s.CompositePartitionKey {
		member := fmt.Sprintf("schema.compositePartitionKey.%d.member", i+1)
		if k.Type == nil {
			return nil, missing(member + ".type")
		}
		if *k.Type != catalog.PartitionKeyDimension && *k.Type != catalog.PartitionKeyMeasure {
			return nil, notInEnum(member+".type", *k.Type, catalog.PartitionKeyDimension, catalog.PartitionKeyMeasure)
		}
		pk := catalog.PartitionKey{Type: *k.Type}
		if k.Name != nil {
			if *k.Name == "" {
				return nil, tooShort(member+".name", 1)
			}
			pk.Name = *k.Name
		}
		if k.EnforcementInRecord != nil {
			if *k.EnforcementInRecord != catalog.EnforcementRequired && *k.EnforcementInRecord != catalog.EnforcementOptional {
				return nil, notInEnum(member+".enforcementInRecord", *k.EnforcementInRecord, catalog.EnforcementRequired, catalog.EnforcementOptional)
			}
			pk.Enforcement = *k.EnforcementInRecord
		}
		keys = append(keys, pk)
	}
	return keys, nil
}
