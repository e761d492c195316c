package timestreamwrite

import (
	"encoding/base64"
	"sort"
	"strings"

	"github.com/tidaldb/tidal/internal/awsjson"
)

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
