package mqtt

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/ingesttest"
	"github.com/tidaldb/tidal/ingest/pipeline"
)

// mqttTarget delivers records to the embedded broker, whose contract is
// the durable PUBACK: a delivery is one QoS 1 publish per record (a
// publish carrying a JSON array is refused or stored whole, so a poison
// item must be a publish of its own), acknowledged when every publish got
// its PUBACK.
//
// Retryable: a publish whose records could not be appended gets no PUBACK,
// and the client resends it when its session resumes. "No PUBACK" is
// established without waiting for a timeout: after the delivery the target
// publishes a probe at QoS 1 on a topic no pattern matches. The broker
// handles a connection's packets in order and writes each PUBACK before it
// reads the next packet, so once the probe's PUBACK is in, every PUBACK
// the delivery will ever get is in too. Message is then the target's own
// account of the missing PUBACKs: MQTT 3.1.1 sends no error text.
//
// Refused: MQTT 3.1.1 has no refusal signal to the publisher; a poison
// publish is acknowledged (resending it cannot help) and recorded in the
// dead-letter table. Refused is the payloads the broker counted as refused
// and Message the reason written to the dead-letter table. (An MQTT 5
// publisher gets reason code 0x99 for it; paho.mqtt.golang speaks 3.1.1.)
type mqttTarget struct {
	b    *Broker
	c    paho.Client
	dead *deadLetters
}

// deadLetters passes appends through and keeps the reason of the last
// dead letter stored.
type deadLetters struct {
	ingest.Appender
	mu     sync.Mutex
	reason string
}

func (d *deadLetters) Append(ctx context.Context, db, table string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	res, err := d.Appender.Append(ctx, db, table, recs, opts)
	if err == nil && db == "db" && table == "dead" {
		d.mu.Lock()
		for _, r := range recs {
			for _, m := range r.Measures {
				if m.Name == "reason" {
					d.reason = m.Value.Str
				}
			}
		}
		d.mu.Unlock()
	}
	return res, err
}

func (d *deadLetters) last() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reason
}

func (tg *mqttTarget) Send(t *testing.T, recs []ingest.Record, malformed bool) ingesttest.Outcome {
	t.Helper()
	publish := func(topic, payload string) paho.Token { return tg.c.Publish(topic, 1, false, payload) }
	refusedBefore, failedBefore := tg.b.Stats.BadPayload.Load(), tg.b.Stats.Failed.Load()
	var toks []paho.Token
	for i, r := range recs {
		if malformed && i == len(recs)/2 {
			toks = append(toks, publish("acc/h0/tbl", `{"t": 1, "host": `))
		}
		toks = append(toks, publish("acc/"+r.Dimensions[0].Value+"/tbl",
			fmt.Sprintf(`{"t": %d, "v": %v}`, r.Time/1e6, r.Measures[0].Value.Float())))
	}
	probe := publish("acc-probe", "probe")
	if !probe.WaitTimeout(30*time.Second) || probe.Error() != nil {
		t.Fatalf("probe publish: no PUBACK (%v)", probe.Error())
	}
	unacked := 0
	for i, tok := range toks {
		select {
		case <-tok.Done():
			if err := tok.Error(); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		default:
			unacked++
		}
	}
	if unacked > 0 {
		// Nothing more will be acknowledged on this connection; drop it
		// (clean session) so the client does not resend once the store
		// heals.
		tg.c.Disconnect(0)
		if failed := tg.b.Stats.Failed.Load() - failedBefore; failed != int64(unacked) {
			t.Errorf("%d publishes without a PUBACK, the broker counted %d failed appends", unacked, failed)
		}
		return ingesttest.Outcome{Retryable: true, Message: fmt.Sprintf("no PUBACK for %d of %d publishes", unacked, len(toks))}
	}
	out := ingesttest.Outcome{Refused: int(tg.b.Stats.BadPayload.Load() - refusedBefore)}
	if out.Refused > 0 {
		out.Message = tg.dead.last()
	}
	return out
}

// accRecords are the records the acceptance topic decodes to: multi-measure
// records named after the table, measure v, dimension host from the topic.
func accRecords(n int) []ingest.Record {
	recs := ingesttest.DoubleRecords(n)
	for i := range recs {
		recs[i].MeasureName = "tbl"
		recs[i].Measures = []ingest.Measure{{Name: "v", Value: recs[i].Value}}
		recs[i].Value = ingest.Value{}
	}
	return recs
}

func TestMQTTAcceptance(t *testing.T) {
	ingesttest.Run(t, ingesttest.Harness{Database: "db", Table: "tbl", Records: accRecords, New: newAccTarget})
}

// TestMQTTDeadLetterDurable: a poison publish is acknowledged only once
// its dead letter is stored; when the dead-letter append fails it gets no
// PUBACK (the good publishes do), so the publisher resends it.
func TestMQTTDeadLetterDurable(t *testing.T) {
	st := ingesttest.NewStore()
	app := &failTable{Appender: st, table: "dead"}
	tg := newAccTarget(t, app).(*mqttTarget)
	recs := accRecords(10)
	out := tg.Send(t, recs, true)
	if !out.Retryable || out.Message != "no PUBACK for 1 of 11 publishes" {
		t.Fatalf("poison publish with the dead-letter table failing: %+v, want only it unacknowledged", out)
	}
	st.MustHold(t, "db", "tbl", recs)
	if n := st.Len("db", "dead"); n != 0 || tg.b.Stats.BadPayload.Load() != 0 {
		t.Fatalf("%d dead letters stored, %d payloads counted refused, want none before the dead letter is durable", n, tg.b.Stats.BadPayload.Load())
	}

	// The store heals; the publisher resends the poison message.
	app.heal()
	tg.c = connect(t, tg.b.opts.Listen)
	out = tg.Send(t, recs[:1], true) // the poison and a good record again
	if out.Retryable || out.Refused != 1 || !strings.Contains(out.Message, "invalid JSON") {
		t.Fatalf("resent poison publish: %+v, want it acknowledged and dead-lettered", out)
	}
	if n := st.Len("db", "dead"); n != 1 {
		t.Fatalf("%d dead letters stored, want 1", n)
	}
}

// failTable fails appends to one table until healed.
type failTable struct {
	ingest.Appender
	mu     sync.Mutex
	table  string
	healed bool
}

func (f *failTable) Append(ctx context.Context, db, table string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	f.mu.Lock()
	fail := table == f.table && !f.healed
	f.mu.Unlock()
	if fail {
		return ingest.Result{}, fmt.Errorf("append to %s: disk full", table)
	}
	return f.Appender.Append(ctx, db, table, recs, opts)
}

func (f *failTable) heal() {
	f.mu.Lock()
	f.healed = true
	f.mu.Unlock()
}

// newAccTarget starts an embedded broker storing through app and connects
// a publisher to it.
func newAccTarget(t *testing.T, app ingest.Appender) ingesttest.Target {
	dead := &deadLetters{Appender: app}
	b, err := New(dead, Options{Listen: freeAddr(t), DeadLetter: &DeadLetter{Database: "db", Table: "dead"},
		Topics: []Topic{{Pattern: "acc/{host}/tbl", Database: "db", TimeField: "t", TimeUnit: "ms",
			Measures: []pipeline.MeasureField{{Field: "v", Type: ingest.TypeDouble}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("broker Run: %v", err)
		}
	})
	return &mqttTarget{b: b, c: connect(t, b.opts.Listen), dead: dead}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// connect connects a clean-session MQTT 3.1.1 client to addr, retrying
// until the broker listens.
func connect(t *testing.T, addr string) paho.Client {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("acceptance").
			SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false))
		tok := c.Connect()
		if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
			t.Cleanup(func() { c.Disconnect(0) })
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect to %s: %v", addr, tok.Error())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
