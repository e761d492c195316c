package scheduled

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/query/exec"
)

// Limits of the scheduled-query API, Timestream's.
const (
	maxNameLen        = 64
	maxQueryLen       = 262144
	maxExpressionLen  = 256
	maxArnLen         = 2048
	maxListResults    = 1000
	maxTagListResults = 200
	maxTags           = 200
)

// Operations returns the Query API operations the scheduler serves.
func (s *Scheduler) Operations() []string {
	return []string{"CreateScheduledQuery", "DeleteScheduledQuery", "DescribeScheduledQuery",
		"ExecuteScheduledQuery", "ListScheduledQueries", "UpdateScheduledQuery"}
}

// TagOperations are the tagging operations Timestream shares between its
// resources; Serve answers them for scheduled-query ARNs only (see
// TagHandler).
var TagOperations = []string{"TagResource", "UntagResource", "ListTagsForResource"}

// Serve runs operation op on a decoded-later request body and returns the
// response (nil means {}) or an *awsjson.Error.
func (s *Scheduler) Serve(ctx context.Context, op string, body []byte) (any, error) {
	switch op {
	case "CreateScheduledQuery":
		return s.create(body)
	case "DescribeScheduledQuery":
		return s.describe(body)
	case "ListScheduledQueries":
		return s.list(body)
	case "UpdateScheduledQuery":
		return s.update(ctx, body)
	case "DeleteScheduledQuery":
		return s.delete(ctx, body)
	case "ExecuteScheduledQuery":
		return s.executeOp(body)
	case "TagResource":
		return s.tag(body)
	case "UntagResource":
		return s.untag(body)
	case "ListTagsForResource":
		return s.listTags(body)
	}
	return nil, awsjson.UnknownOperation(op)
}

// IsARN reports whether arn names a scheduled query.
func IsARN(arn string) bool {
	return strings.HasPrefix(arn, "arn:") && strings.Contains(arn, ":scheduled-query/")
}

// TagHandler returns a handler for a tagging operation that serves
// scheduled-query ARNs itself and passes every other request to next (the
// Write API's tagging of databases and tables).
func (s *Scheduler) TagHandler(next func(w http.ResponseWriter, r *http.Request, op string, body []byte)) func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	return func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		var req struct {
			ResourceARN string `json:"ResourceARN"`
		}
		if json.Unmarshal(body, &req) != nil || !IsARN(req.ResourceARN) {
			if next != nil {
				next(w, r, op, body)
				return
			}
		}
		rid := awsjson.RequestID(r.Context())
		resp, err := s.Serve(r.Context(), op, body)
		if err != nil {
			awsjson.WriteError(w, rid, err)
			return
		}
		if err := awsjson.WriteJSON(w, rid, resp); err != nil {
			s.log.Error("write scheduled query response", "operation", op, "err", err)
		}
	}
}

func required(member string) *awsjson.Error {
	return awsjson.Validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func lengthError(member string, lo, hi int) *awsjson.Error {
	return awsjson.Validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length between %d and %d", member, lo, hi)
}

func checkLen(member, v string, lo, hi int) *awsjson.Error {
	if len(v) < lo || len(v) > hi {
		return lengthError(member, lo, hi)
	}
	return nil
}

func notFound(arn string) *awsjson.Error {
	e := awsjson.NotFound("The scheduled query %s does not exist.", arn)
	e.Extra = map[string]any{"ScheduledQueryArn": arn}
	return e
}

var nameRe = regexp.MustCompile(`^[a-zA-Z0-9|!\-_*'()]([a-zA-Z0-9]|[!\-_*'()/.])+$`)

var bucketRe = regexp.MustCompile(`^[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9]$`)

type createRequest struct {
	Name                           string                     `json:"Name"`
	QueryString                    string                     `json:"QueryString"`
	ScheduleConfiguration          *ScheduleConfiguration     `json:"ScheduleConfiguration"`
	NotificationConfiguration      *NotificationConfiguration `json:"NotificationConfiguration"`
	TargetConfiguration            *TargetConfiguration       `json:"TargetConfiguration"`
	ClientToken                    string                     `json:"ClientToken"`
	ScheduledQueryExecutionRoleArn string                     `json:"ScheduledQueryExecutionRoleArn"`
	Tags                           []Tag                      `json:"Tags"`
	KmsKeyID                       string                     `json:"KmsKeyId"`
	ErrorReportConfiguration       *ErrorReportConfiguration  `json:"ErrorReportConfiguration"`
}

func (s *Scheduler) create(body []byte) (any, error) {
	arn, topic, fresh, err := s.createQuery(body)
	if err != nil {
		return nil, err
	}
	if fresh {
		// Timestream sends SCHEDULED_QUERY_CREATING before it answers.
		s.notify(context.Background(), topic, &Notification{Type: NotifyCreating, Arn: arn, State: StateEnabled})
	}
	return struct{ Arn string }{arn}, nil
}

// createQuery adds a scheduled query and returns its ARN and notification
// topic; fresh is false when a ClientToken matched an earlier request.
func (s *Scheduler) createQuery(body []byte) (arn, topic string, fresh bool, err error) {
	var req createRequest
	if e := awsjson.Decode(body, &req); e != nil {
		return "", "", false, e
	}
	if e := s.validateCreate(&req); e != nil {
		return "", "", false, e
	}
	now := s.now()
	sc, perr := ParseSchedule(req.ScheduleConfiguration.ScheduleExpression, now)
	if perr != nil {
		return "", "", false, awsjson.Validation("Invalid ScheduleExpression: %s", strings.TrimPrefix(perr.Error(), ErrSchedule.Error()+": "))
	}
	token := req.ClientToken
	req.ClientToken = ""
	canon, _ := json.Marshal(req) // Marshalling a decoded request cannot fail.
	sum := sha256.Sum256(canon)
	hash := hex.EncodeToString(sum[:])

	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Tokens = slices.DeleteFunc(s.st.Tokens, func(t clientToken) bool { return now.Sub(time.Time(t.Time)) > TokenWindow })
	if token != "" {
		for _, t := range s.st.Tokens {
			if t.Token != token {
				continue
			}
			if t.Hash != hash {
				return "", "", false, awsjson.Conflict("The ClientToken %s was already used with different parameters.", token)
			}
			if _, ok := s.st.Queries[t.Arn]; ok {
				return t.Arn, "", false, nil
			}
		}
	}
	for _, e := range s.st.Queries {
		if e.Name == req.Name {
			return "", "", false, awsjson.Conflict("A scheduled query with the name %s already exists.", req.Name)
		}
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails on supported platforms.
	arn = "arn:aws:timestream:" + s.opts.Region + ":" + s.opts.Account + ":scheduled-query/" + req.Name + "-" + hex.EncodeToString(id[:])
	e := &entry{Query: Query{
		Arn: arn, Name: req.Name, QueryString: req.QueryString, CreationTime: awsjson.Timestamp(now), State: StateEnabled,
		ScheduleConfiguration: *req.ScheduleConfiguration, NotificationConfiguration: *req.NotificationConfiguration,
		TargetConfiguration: req.TargetConfiguration, ScheduledQueryExecutionRoleArn: req.ScheduledQueryExecutionRoleArn,
		KmsKeyID: req.KmsKeyID, ErrorReportConfiguration: *req.ErrorReportConfiguration,
	}, Tags: req.Tags}
	if next := sc.Next(now); !next.IsZero() {
		e.NextInvocationTime = ptrTime(next)
	}
	s.st.Queries[arn] = e
	s.scheds[arn] = sc
	if token != "" {
		s.st.Tokens = append(s.st.Tokens, clientToken{Token: token, Hash: hash, Arn: arn, Time: awsjson.Timestamp(now)})
	}
	if err := s.st.save(s.opts.Dir); err != nil {
		delete(s.st.Queries, arn)
		delete(s.scheds, arn)
		return "", "", false, err
	}
	s.wake()
	return arn, e.NotificationConfiguration.SnsConfiguration.TopicArn, true, nil
}

func (s *Scheduler) validateCreate(req *createRequest) *awsjson.Error {
	switch {
	case req.Name == "":
		return required("name")
	case req.QueryString == "":
		return required("queryString")
	case req.ScheduleConfiguration == nil || req.ScheduleConfiguration.ScheduleExpression == "":
		return required("scheduleConfiguration.scheduleExpression")
	case req.NotificationConfiguration == nil || req.NotificationConfiguration.SnsConfiguration == nil ||
		req.NotificationConfiguration.SnsConfiguration.TopicArn == "":
		return required("notificationConfiguration.snsConfiguration.topicArn")
	case req.ScheduledQueryExecutionRoleArn == "":
		return required("scheduledQueryExecutionRoleArn")
	case req.ErrorReportConfiguration == nil || req.ErrorReportConfiguration.S3Configuration == nil ||
		req.ErrorReportConfiguration.S3Configuration.BucketName == "":
		return required("errorReportConfiguration.s3Configuration.bucketName")
	}
	if e := checkLen("name", req.Name, 1, maxNameLen); e != nil {
		return e
	}
	if !nameRe.MatchString(req.Name) {
		return awsjson.Validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", req.Name, nameRe.String())
	}
	for _, c := range []struct {
		member, v string
		lo, hi    int
	}{
		{"queryString", req.QueryString, 1, maxQueryLen},
		{"scheduleConfiguration.scheduleExpression", req.ScheduleConfiguration.ScheduleExpression, 1, maxExpressionLen},
		{"notificationConfiguration.snsConfiguration.topicArn", req.NotificationConfiguration.SnsConfiguration.TopicArn, 1, maxArnLen},
		{"scheduledQueryExecutionRoleArn", req.ScheduledQueryExecutionRoleArn, 1, maxArnLen},
		{"kmsKeyId", req.KmsKeyID, 0, maxArnLen},
	} {
		if e := checkLen(c.member, c.v, c.lo, c.hi); e != nil {
			return e
		}
	}
	if req.ClientToken != "" {
		if e := checkLen("clientToken", req.ClientToken, 32, 128); e != nil {
			return e
		}
	}
	s3 := req.ErrorReportConfiguration.S3Configuration
	if !bucketRe.MatchString(s3.BucketName) {
		return awsjson.Validation("Invalid S3 bucket name '%s' in ErrorReportConfiguration.", s3.BucketName)
	}
	if p := strings.Trim(s3.ObjectKeyPrefix, "/"); p != "" && !isCleanKey(p) {
		return awsjson.Validation("Invalid ObjectKeyPrefix '%s' in ErrorReportConfiguration.", s3.ObjectKeyPrefix)
	}
	if e := validateTags(req.Tags); e != nil {
		return e
	}
	if req.TargetConfiguration != nil {
		return s.validateTarget(req.TargetConfiguration, req.QueryString)
	}
	return nil
}

// isCleanKey reports whether an object key prefix stays inside its bucket
// when used as a relative path.
func isCleanKey(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\\x00") {
			return false
		}
	}
	return true
}

func validateTags(tags []Tag) *awsjson.Error {
	if len(tags) > maxTags {
		return awsjson.Validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxTags)
	}
	for _, t := range tags {
		if e := checkLen("tags.member.key", t.Key, 1, 128); e != nil {
			return e
		}
		if e := checkLen("tags.member.value", t.Value, 0, 256); e != nil {
			return e
		}
	}
	return nil
}

var valueTypes = []string{"BIGINT", "BOOLEAN", "DOUBLE", "VARCHAR", "MULTI", "TIMESTAMP"}

func (s *Scheduler) validateTarget(t *TargetConfiguration, sql string) *awsjson.Error {
	tc := t.TimestreamConfiguration
	switch {
	case tc == nil:
		return required("targetConfiguration.timestreamConfiguration")
	case tc.DatabaseName == "":
		return required("targetConfiguration.timestreamConfiguration.databaseName")
	case tc.TableName == "":
		return required("targetConfiguration.timestreamConfiguration.tableName")
	case tc.TimeColumn == "":
		return required("targetConfiguration.timestreamConfiguration.timeColumn")
	case tc.DimensionMappings == nil:
		return required("targetConfiguration.timestreamConfiguration.dimensionMappings")
	case (tc.MultiMeasureMappings == nil) == (len(tc.MixedMeasureMappings) == 0):
		return awsjson.Validation("Exactly one of MultiMeasureMappings and MixedMeasureMappings must be provided.")
	}
	for _, d := range tc.DimensionMappings {
		if d.Name == "" {
			return required("targetConfiguration.timestreamConfiguration.dimensionMappings.member.name")
		}
		if d.DimensionValueType != "VARCHAR" {
			return awsjson.Validation("1 validation error detected: Value '%s' at 'dimensionValueType' failed to satisfy constraint: Member must satisfy enum value set: [VARCHAR]", d.DimensionValueType)
		}
	}
	checkType := func(v string, multi bool) *awsjson.Error {
		if !slices.Contains(valueTypes, v) || (!multi && v == "MULTI") {
			return awsjson.Validation("1 validation error detected: Value '%s' at 'measureValueType' failed to satisfy constraint: Member must satisfy enum value set: [%s]", v, strings.Join(valueTypes, ", "))
		}
		return nil
	}
	checkAttrs := func(as []MultiMeasureAttributeMapping) *awsjson.Error {
		if len(as) == 0 {
			return required("multiMeasureAttributeMappings")
		}
		for _, a := range as {
			if a.SourceColumn == "" {
				return required("multiMeasureAttributeMappings.member.sourceColumn")
			}
			if e := checkType(a.MeasureValueType, false); e != nil {
				return e
			}
		}
		return nil
	}
	if mm := tc.MultiMeasureMappings; mm != nil {
		if e := checkAttrs(mm.MultiMeasureAttributeMappings); e != nil {
			return e
		}
	}
	for _, mx := range tc.MixedMeasureMappings {
		if e := checkType(mx.MeasureValueType, true); e != nil {
			return e
		}
		if mx.MeasureValueType == "MULTI" {
			if e := checkAttrs(mx.MultiMeasureAttributeMappings); e != nil {
				return e
			}
		}
	}
	if s.opts.Tables != nil {
		if _, err := s.opts.Tables.Table(tc.DatabaseName, tc.TableName); err != nil {
			return awsjson.Validation("The target table %s.%s does not exist.", tc.DatabaseName, tc.TableName)
		}
	}
	p, ok := s.opts.Querier.(Preparer)
	if !ok {
		return nil
	}
	cols, err := p.Prepare(sql)
	if err != nil {
		var xe *exec.Error
		if errors.As(err, &xe) && xe.Kind != exec.ErrValidation {
			return nil // Not a problem of the query text; the run will tell.
		}
		return awsjson.Validation("Invalid query: %v", err)
	}
	if _, err := compileMapping(tc, cols); err != nil {
		return awsjson.Validation("The query result does not match the target configuration: %v", err)
	}
	return nil
}

type arnRequest struct {
	ScheduledQueryArn string `json:"ScheduledQueryArn"`
}

func decodeArn(body []byte) (string, *awsjson.Error) {
	var req arnRequest
	if e := awsjson.Decode(body, &req); e != nil {
		return "", e
	}
	if req.ScheduledQueryArn == "" {
		return "", required("scheduledQueryArn")
	}
	return req.ScheduledQueryArn, checkLen("scheduledQueryArn", req.ScheduledQueryArn, 1, maxArnLen)
}

func (s *Scheduler) describe(body []byte) (any, error) {
	arn, e := decodeArn(body)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ent, ok := s.st.Queries[arn]
	if !ok {
		return nil, notFound(arn)
	}
	q := ent.Query
	return struct{ ScheduledQuery Query }{q}, nil
}

// Get returns a copy of the scheduled query arn.
func (s *Scheduler) Get(arn string) (Query, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.st.Queries[arn]
	if !ok {
		return Query{}, false
	}
	return e.Query, true
}

// List returns copies of every scheduled query, sorted by name.
func (s *Scheduler) List() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Query, 0, len(s.st.Queries))
	for _, e := range s.st.Queries {
		out = append(out, e.Query)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sortedARNs returns the ARNs in order; the caller holds s.mu.
func (s *Scheduler) sortedARNs() []string {
	arns := make([]string, 0, len(s.st.Queries))
	for a := range s.st.Queries {
		arns = append(arns, a)
	}
	slices.Sort(arns)
	return arns
}

// page returns the items after token, at most limit, and the next token.
func page(items []string, token string, limit int) ([]string, string, *awsjson.Error) {
	start := 0
	if token != "" {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", awsjson.Validation("Invalid pagination token.")
		}
		start, _ = slices.BinarySearch(items, string(after))
		if start < len(items) && items[start] == string(after) {
			start++
		}
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(items[end-1]))
	}
	return items[start:end], next, nil
}

func (s *Scheduler) list(body []byte) (any, error) {
	var req struct {
		MaxResults *int   `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if e := awsjson.Decode(body, &req); e != nil {
		return nil, e
	}
	limit := maxListResults
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > maxListResults {
			return nil, awsjson.Validation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *req.MaxResults, maxListResults)
		}
		limit = *req.MaxResults
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	arns, next, e := page(s.sortedARNs(), req.NextToken, limit)
	if e != nil {
		return nil, e
	}
	resp := struct {
		ScheduledQueries []summary `json:"ScheduledQueries"`
		NextToken        string    `json:"NextToken,omitempty"`
	}{ScheduledQueries: make([]summary, 0, len(arns)), NextToken: next}
	for _, a := range arns {
		resp.ScheduledQueries = append(resp.ScheduledQueries, s.st.Queries[a].summary())
	}
	return resp, nil
}

func (s *Scheduler) update(ctx context.Context, body []byte) (any, error) {
	var req struct {
		ScheduledQueryArn string `json:"ScheduledQueryArn"`
		State             string `json:"State"`
	}
	if e := awsjson.Decode(body, &req); e != nil {
		return nil, e
	}
	switch {
	case req.ScheduledQueryArn == "":
		return nil, required("scheduledQueryArn")
	case req.State == "":
		return nil, required("state")
	case req.State != StateEnabled && req.State != StateDisabled:
		return nil, awsjson.Validation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", req.State)
	}
	s.mu.Lock()
	e, ok := s.st.Queries[req.ScheduledQueryArn]
	if !ok {
		s.mu.Unlock()
		return nil, notFound(req.ScheduledQueryArn)
	}
	if e.State == req.State {
		s.mu.Unlock()
		return nil, nil
	}
	old, oldNext := e.State, e.NextInvocationTime
	e.State = req.State
	e.NextInvocationTime = nil
	if req.State == StateEnabled {
		if next := s.scheds[e.Arn].Next(s.now()); !next.IsZero() {
			e.NextInvocationTime = ptrTime(next)
		}
	}
	if err := s.st.save(s.opts.Dir); err != nil {
		e.State, e.NextInvocationTime = old, oldNext
		s.mu.Unlock()
		return nil, err
	}
	topic := e.NotificationConfiguration.SnsConfiguration.TopicArn
	s.mu.Unlock()
	s.wake()
	s.notify(ctx, topic, &Notification{Type: NotifyUpdate, Arn: req.ScheduledQueryArn, State: req.State})
	return nil, nil
}

func (s *Scheduler) delete(ctx context.Context, body []byte) (any, error) {
	arn, e := decodeArn(body)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	ent, ok := s.st.Queries[arn]
	if !ok {
		s.mu.Unlock()
		return nil, notFound(arn)
	}
	delete(s.st.Queries, arn)
	if err := s.st.save(s.opts.Dir); err != nil {
		s.st.Queries[arn] = ent
		s.mu.Unlock()
		return nil, err
	}
	delete(s.scheds, arn)
	s.mu.Unlock()
	s.m.forget(ent.Name)
	s.notify(ctx, ent.NotificationConfiguration.SnsConfiguration.TopicArn, &Notification{Type: NotifyDeleted, Arn: arn})
	return nil, nil
}

func (s *Scheduler) executeOp(body []byte) (any, error) {
	var req struct {
		ScheduledQueryArn string             `json:"ScheduledQueryArn"`
		InvocationTime    *awsjson.Timestamp `json:"InvocationTime"`
		ClientToken       string             `json:"ClientToken"`
	}
	if e := awsjson.Decode(body, &req); e != nil {
		return nil, e
	}
	switch {
	case req.ScheduledQueryArn == "":
		return nil, required("scheduledQueryArn")
	case req.InvocationTime == nil:
		return nil, required("invocationTime")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.st.Queries[req.ScheduledQueryArn]
	if !ok {
		return nil, notFound(req.ScheduledQueryArn)
	}
	inv := time.Time(*req.InvocationTime).UTC()
	if slices.ContainsFunc(e.Pending, func(p pendingRun) bool { return time.Time(p.InvocationTime).Equal(inv) }) {
		return nil, nil // Already queued: a retried request.
	}
	e.Pending = append(e.Pending, pendingRun{InvocationTime: awsjson.Timestamp(inv), RequestTime: awsjson.Timestamp(s.now())})
	if err := s.st.save(s.opts.Dir); err != nil {
		e.Pending = e.Pending[:len(e.Pending)-1]
		return nil, err
	}
	s.wake()
	return nil, nil
}

func (s *Scheduler) tag(body []byte) (any, error) {
	var req struct {
		ResourceARN string `json:"ResourceARN"`
		Tags        []Tag  `json:"Tags"`
	}
	if e := awsjson.Decode(body, &req); e != nil {
		return nil, e
	}
	if req.ResourceARN == "" {
		return nil, required("resourceARN")
	}
	if req.Tags == nil {
		return nil, required("tags")
	}
	if e := validateTags(req.Tags); e != nil {
		return nil, e
	}
	return s.updateTags(req.ResourceARN, func(have []Tag) []Tag {
		for _, t := range req.Tags {
			if i := slices.IndexFunc(have, func(h Tag) bool { return h.Key == t.Key }); i >= 0 {
				have[i].Value = t.Value
			} else {
				have = append(have, t)
			}
		}
		return have
	})
}

func (s *Scheduler) untag(body []byte) (any, error) {
	var req struct {
		ResourceARN string   `json:"ResourceARN"`
		TagKeys     []string `json:"TagKeys"`
	}
	if e := awsjson.Decode(body, &req); e != nil {
		return nil, e
	}
	if req.ResourceARN == "" {
		return nil, required("resourceARN")
	}
	if req.TagKeys == nil {
		return nil, required("tagKeys")
	}
	return s.updateTags(req.ResourceARN, func(have []Tag) []Tag {
		return slices.DeleteFunc(have, func(t Tag) bool { return slices.Contains(req.TagKeys, t.Key) })
	})
}

func (s *Scheduler) updateTags(arn string, fn func([]Tag) []Tag) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.st.Queries[arn]
	if !ok {
		return nil, awsjson.NotFound("The resource %s does not exist.", arn)
	}
	old := e.Tags
	tags := fn(slices.Clone(old))
	if len(tags) > maxTags {
		return nil, awsjson.QuotaExceeded("A resource can have at most %d tags.", maxTags)
	}
	e.Tags = tags
	if err := s.st.save(s.opts.Dir); err != nil {
		e.Tags = old
		return nil, err
	}
	return nil, nil
}

func (s *Scheduler) listTags(body []byte) (any, error) {
	var req struct {
		ResourceARN string `json:"ResourceARN"`
		MaxResults  *int   `json:"MaxResults"`
		NextToken   string `json:"NextToken"`
	}
	if e := awsjson.Decode(body, &req); e != nil {
		return nil, e
	}
	if req.ResourceARN == "" {
		return nil, required("resourceARN")
	}
	limit := maxTagListResults
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > maxTagListResults {
			return nil, awsjson.Validation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *req.MaxResults, maxTagListResults)
		}
		limit = *req.MaxResults
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.st.Queries[req.ResourceARN]
	if !ok {
		return nil, awsjson.NotFound("The resource %s does not exist.", req.ResourceARN)
	}
	keys := make([]string, len(e.Tags))
	byKey := make(map[string]string, len(e.Tags))
	for i, t := range e.Tags {
		keys[i] = t.Key
		byKey[t.Key] = t.Value
	}
	slices.Sort(keys)
	keys, next, ae := page(keys, req.NextToken, limit)
	if ae != nil {
		return nil, ae
	}
	resp := struct {
		Tags      []Tag  `json:"Tags"`
		NextToken string `json:"NextToken,omitempty"`
	}{Tags: make([]Tag, 0, len(keys)), NextToken: next}
	for _, k := range keys {
		resp.Tags = append(resp.Tags, Tag{Key: k, Value: byKey[k]})
	}
	return resp, nil
}
