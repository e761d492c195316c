package timestreamwrite

import (
	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/internal/awsjson"
)

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
