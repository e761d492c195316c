package timestreamwrite

import (
	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/internal/awsjson"
)

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
