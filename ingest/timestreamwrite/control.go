package timestreamwrite

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/internal/awsjson"
)

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

// --- databases ---

func (a *API) createDatabase(r *request) (any, error) {
	var req struct {
		DatabaseName *string
		KmsKeyID     *string `json:"KmsKeyId"`
		Tags         []wireTag
	}
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	name, e := requireName("DatabaseName", req.DatabaseName)
	if e != nil {
		return nil, e
	}
	tags, e := tagsIn("tags", req.Tags)
	if e != nil {
		return nil, e
	}
	kms := ""
	if req.KmsKeyID != nil {
		kms = *req.KmsKeyID
	}
	d, err := a.cat.CreateDatabase(name, kms, tags)
	if err != nil {
		return nil, err
	}
	return databaseResponse{Database: a.databaseOut(d)}, nil
}

func (a *API) describeDatabase(r *request) (any, error) {
	var req struct{ DatabaseName *string }
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	name, e := requireName("DatabaseName", req.DatabaseName)
	if e != nil {
		return nil, e
	}
	d, err := a.cat.Database(name)
	if err != nil {
		return nil, err
	}
	return databaseResponse{Database: a.databaseOut(d)}, nil
}

func (a *API) updateDatabase(r *request) (any, error) {
	var req struct {
		DatabaseName *string
		KmsKeyID     *string `json:"KmsKeyId"`
	}
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	name, e := requireName("DatabaseName", req.DatabaseName)
	if e != nil {
		return nil, e
	}
	if req.KmsKeyID == nil {
		return nil, missing("kmsKeyId")
	}
	d, err := a.cat.UpdateDatabase(name, *req.KmsKeyID)
	if err != nil {
		return nil, err
	}
	return databaseResponse{Database: a.databaseOut(d)}, nil
}

func (a *API) deleteDatabase(r *request) (any, error) {
	var req struct{ DatabaseName *string }
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	name, e := requireName("DatabaseName", req.DatabaseName)
	if e != nil {
		return nil, e
	}
	if err := a.cat.DeleteDatabase(name); err != nil {
		return nil, err
	}
	return nil, nil
}

type listRequest struct {
	DatabaseName *string
	NextToken    *string
	MaxResults   *int32
}

const maxListResults = 20

// pageBounds validates MaxResults and decodes NextToken into the key after
// which the page starts.
func pageBounds(req *listRequest, kind string) (limit int, after string, e *awsjson.Error) {
	limit = maxListResults
	if req.MaxResults != nil {
		n := *req.MaxResults
		if n < 1 {
			return 0, "", awsjson.Validation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1", n)
		}
		if n > maxListResults {
			return 0, "", awsjson.Validation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", n, maxListResults)
		}
		limit = int(n)
	}
	if req.NextToken != nil && *req.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*req.NextToken)
		key, ok := strings.CutPrefix(string(raw), kind+":")
		if err != nil || !ok {
			return 0, "", awsjson.Validation("Invalid pagination token.")
		}
		after = key
	}
	return limit, after, nil
}

// page returns the items whose key sorts after after, at most limit of them,
// and the token for the next page (nil on the last page). keys must be
// sorted.
func page(keys []string, limit int, after, kind string) (start, end int, next *string) {
	start = sort.SearchStrings(keys, after)
	if start < len(keys) && keys[start] == after && after != "" {
		start++
	}
	end = min(start+limit, len(keys))
	if end < len(keys) {
		tok := base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + keys[end-1]))
		next = &tok
	}
	return start, end, next
}

func (a *API) listDatabases(r *request) (any, error) {
	var req listRequest
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	limit, after, e := pageBounds(&req, "db")
	if e != nil {
		return nil, e
	}
	all := a.cat.ListDatabases()
	keys := make([]string, len(all))
	for i, d := range all {
		keys[i] = d.Name
	}
	start, end, next := page(keys, limit, after, "db")
	resp := struct {
		Databases []wireDatabase
		NextToken *string `json:",omitempty"`
	}{Databases: []wireDatabase{}, NextToken: next}
	for _, d := range all[start:end] {
		resp.Databases = append(resp.Databases, a.databaseOut(d))
	}
	return resp, nil
}

// --- tables ---

type tableRequest struct {
	DatabaseName                 *string
	TableName                    *string
	RetentionProperties          *wireRetention
	MagneticStoreWriteProperties *wireMagneticWrites
	Schema                       *wireSchema
	Tags                         []wireTag
}

func (req *tableRequest) names() (db, table string, e *awsjson.Error) {
	if db, e = requireName("DatabaseName", req.DatabaseName); e != nil {
		return "", "", e
	}
	if table, e = requireName("TableName", req.TableName); e != nil {
		return "", "", e
	}
	return db, table, nil
}

func (a *API) createTable(r *request) (any, error) {
	var req tableRequest
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	db, name, e := req.names()
	if e != nil {
		return nil, e
	}
	t := catalog.Table{Database: db, Name: name}
	if req.RetentionProperties != nil {
		if t.Retention, e = retentionIn(req.RetentionProperties); e != nil {
			return nil, e
		}
	}
	if req.MagneticStoreWriteProperties != nil {
		if t.MagneticWrites, e = magneticIn(req.MagneticStoreWriteProperties); e != nil {
			return nil, e
		}
	}
	if req.Schema != nil {
		if t.PartitionKeys, e = schemaIn(req.Schema); e != nil {
			return nil, e
		}
	}
	if t.Tags, e = tagsIn("tags", req.Tags); e != nil {
		return nil, e
	}
	created, err := a.cat.CreateTable(t)
	if err != nil {
		return nil, err
	}
	return tableResponse{Table: a.tableOut(created)}, nil
}

func (a *API) describeTable(r *request) (any, error) {
	var req tableRequest
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	db, name, e := req.names()
	if e != nil {
		return nil, e
	}
	t, err := a.cat.Table(db, name)
	if err != nil {
		return nil, err
	}
	return tableResponse{Table: a.tableOut(t)}, nil
}

func (a *API) updateTable(r *request) (any, error) {
	var req tableRequest
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	db, name, e := req.names()
	if e != nil {
		return nil, e
	}
	var upd catalog.TableUpdate
	if req.RetentionProperties != nil {
		ret, e := retentionIn(req.RetentionProperties)
		if e != nil {
			return nil, e
		}
		upd.Retention = &ret
	}
	if req.MagneticStoreWriteProperties != nil {
		mw, e := magneticIn(req.MagneticStoreWriteProperties)
		if e != nil {
			return nil, e
		}
		upd.MagneticWrites = &mw
	}
	if req.Schema != nil {
		keys, e := schemaIn(req.Schema)
		if e != nil {
			return nil, e
		}
		if keys != nil {
			upd.PartitionKeys = &keys
		}
	}
	t, err := a.cat.UpdateTable(db, name, upd)
	if err != nil {
		return nil, err
	}
	return tableResponse{Table: a.tableOut(t)}, nil
}

func (a *API) deleteTable(r *request) (any, error) {
	var req tableRequest
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	db, name, e := req.names()
	if e != nil {
		return nil, e
	}
	if _, err := a.cat.DeleteTable(db, name); err != nil {
		return nil, err
	}
	return nil, nil
}

func (a *API) listTables(r *request) (any, error) {
	var req listRequest
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	limit, after, e := pageBounds(&req, "tb")
	if e != nil {
		return nil, e
	}
	db := ""
	if req.DatabaseName != nil {
		db = *req.DatabaseName
	}
	all, err := a.cat.ListTables(db)
	if err != nil {
		return nil, err
	}
	// "\x00" sorts before every name byte, so the keys sort exactly as
	// (database, table) pairs do.
	keys := make([]string, len(all))
	for i, t := range all {
		keys[i] = t.Database + "\x00" + t.Name
	}
	start, end, next := page(keys, limit, after, "tb")
	resp := struct {
		Tables    []wireTable
		NextToken *string `json:",omitempty"`
	}{Tables: []wireTable{}, NextToken: next}
	for _, t := range all[start:end] {
		resp.Tables = append(resp.Tables, a.tableOut(t))
	}
	return resp, nil
}

// --- tags ---

func (a *API) tagResource(r *request) (any, error) {
	var req struct {
		ResourceARN *string
		Tags        []wireTag
	}
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	if req.ResourceARN == nil {
		return nil, missing("resourceARN")
	}
	if req.Tags == nil {
		return nil, missing("tags")
	}
	tags, e := tagsIn("tags", req.Tags)
	if e != nil {
		return nil, e
	}
	if err := a.cat.Tag(*req.ResourceARN, tags); err != nil {
		return nil, err
	}
	return nil, nil
}

func (a *API) untagResource(r *request) (any, error) {
	var req struct {
		ResourceARN *string
		TagKeys     []string
	}
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	if req.ResourceARN == nil {
		return nil, missing("resourceARN")
	}
	if req.TagKeys == nil {
		return nil, missing("tagKeys")
	}
	if len(req.TagKeys) > catalog.MaxTagsPerResource {
		return nil, tooLong("tagKeys", catalog.MaxTagsPerResource)
	}
	if err := a.cat.Untag(*req.ResourceARN, req.TagKeys); err != nil {
		return nil, err
	}
	return nil, nil
}

func (a *API) listTagsForResource(r *request) (any, error) {
	var req struct{ ResourceARN *string }
	if e := awsjson.Decode(r.body, &req); e != nil {
		return nil, e
	}
	if req.ResourceARN == nil {
		return nil, missing("resourceARN")
	}
	tags, err := a.cat.Tags(*req.ResourceARN)
	if err != nil {
		return nil, err
	}
	return struct{ Tags []wireTag }{Tags: tagsOut(tags)}, nil
}

// --- endpoints ---

func (a *API) describeEndpoints(r *request) (any, error) {
	addr := a.opts.EndpointAddress
	if addr == "" {
		addr = r.host
	}
	type endpoint struct {
		Address              string
		CachePeriodInMinutes int64
	}
	return struct{ Endpoints []endpoint }{Endpoints: []endpoint{{Address: addr, CachePeriodInMinutes: CachePeriodInMinutes}}}, nil
}
