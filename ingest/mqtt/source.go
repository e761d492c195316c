package mqtt

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/tidaldb/tidal/ingest"
)

// SourceOptions configures a Source: a subscription to an external broker
// (EMQX, AWS IoT Core or any MQTT 3.1.1 broker).
type SourceOptions struct {
	// Broker is the broker URL: tcp://host:1883, ssl://host:8883, ws://...
	Broker             string
	ClientID           string
	Username, Password string
	// ShareGroup, when set, subscribes with $share/<group>/<filter>, so
	// that several tidal processes with the same group split the messages.
	ShareGroup string
	// Topics maps topic patterns to tables, as for the embedded broker.
	Topics []Topic
	Logger *slog.Logger
	Now    func() time.Time
	// DeadLetter is as for the embedded broker.
	DeadLetter *DeadLetter
}

// Source subscribes at QoS 1 to its topics' filters on an external broker
// and stores the messages. A message is acknowledged to the broker only
// after its records are appended; with a persistent session (clean session
// off) the broker keeps unacknowledged and offline messages. Connections
// are retried with backoff (1s up to 30s) and subscriptions renewed on
// every reconnect.
type Source struct {
	opts   SourceOptions
	routes []*route
	batch  *batcher
	log    *slog.Logger
	Stats  Stats
}

// NewSource returns a Source storing through app; Run starts it.
func NewSource(app ingest.Appender, opts SourceOptions) (*Source, error) {
	if opts.Broker == "" {
		return nil, fmt.Errorf("configure mqtt source: broker is required")
	}
	if opts.ClientID == "" {
		opts.ClientID = "tidal"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Source{opts: opts, batch: newBatcher(app), log: opts.Logger.With("mqtt_broker", opts.Broker)}
	for _, t := range opts.Topics {
		r, err := compile(t)
		if err != nil {
			return nil, fmt.Errorf("configure mqtt source %s: %w", opts.Broker, err)
		}
		s.routes = append(s.routes, r)
	}
	return s, nil
}

// filter returns the subscription filter of r.
func (s *Source) filter(r *route) string {
	f := r.pattern.Filter()
	if s.opts.ShareGroup != "" {
		f = "$share/" + s.opts.ShareGroup + "/" + f
	}
	return f
}

// Run subscribes until ctx is done.
func (s *Source) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(s.batch.run)
	}
	defer wg.Wait()
	defer close(s.batch.stop)

	opts := paho.NewClientOptions().AddBroker(s.opts.Broker).SetClientID(s.opts.ClientID).
		SetUsername(s.opts.Username).SetPassword(s.opts.Password).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(30 * time.Second).
		SetOrderMatters(false).SetAutoAckDisabled(true)
	opts.SetOnConnectHandler(func(c paho.Client) {
		for _, r := range s.routes {
			tok := c.Subscribe(s.filter(r), 1, s.handler(r))
			go func() {
				tok.Wait()
				if err := tok.Error(); err != nil {
					s.log.Error("mqtt subscribe", "filter", s.filter(r), "err", err)
					return
				}
				s.log.Info("mqtt subscribed", "filter", s.filter(r))
			}()
		}
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		s.log.Warn("mqtt connection lost; reconnecting", "err", err)
	})
	c := paho.NewClient(opts)
	c.Connect() // retries in the background until it connects or Disconnect
	<-ctx.Done()
	c.Disconnect(1000)
	return nil
}

// handler stores the messages of route r, acknowledging each after its
// records are appended (or refused as bad: resending cannot help).
func (s *Source) handler(r *route) paho.MessageHandler {
	return func(_ paho.Client, m paho.Message) {
		dims, ok := r.pattern.Match(m.Topic(), nil)
		if !ok {
			m.Ack() // overlapping filters: another route's message
			return
		}
		if _, _, err := storeMessage(s.batch, &s.Stats, s.log, s.opts.DeadLetter, r, dims, m.Topic(), m.Payload(), s.opts.Now(), s.opts.Broker); err != nil {
			return // not acknowledged: redelivered when the session resumes
		}
		m.Ack()
	}
}
