package greeting

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Actor is the actor named in the metadata of the events the dispatcher
// appends.
const Actor = "greeting-dispatcher"

// ID namespaces of the deterministic event IDs (codec.DeterministicID).
// They are part of the stored data: never change them.
const (
	// NamespaceGreeting: the outcome of a campaign for a customer, keyed
	// "<campaignID>/<customerID>". The same ID is the idempotency key given
	// to the sender.
	NamespaceGreeting = "greeting"
	// NamespaceCampaign: the dispatcher's campaign events, keyed
	// "<campaignID>/started" and "<campaignID>/completed"; and a scheduled
	// campaign, keyed by the caller's idempotency key.
	NamespaceCampaign = "greeting-campaign"
)

// GreetingID is the ID of the event recording the outcome of campaignID for
// customerID, and the idempotency key of its delivery.
func GreetingID(campaignID, customerID string) uuid.UUID {
	return codec.DeterministicID(NamespaceGreeting, campaignID+"/"+customerID)
}

// streams loads aggregates from the store and appends their changes.
type streams struct {
	store eventstore.Store
	codec *codec.Codec
}

// loadCustomer rebuilds a customer; found is false when the stream is empty.
func (s streams) loadCustomer(ctx context.Context, id string) (*customer.Customer, bool, error) {
	evs, err := s.store.ReadStream(ctx, eventstore.StreamID(customer.StreamCategory, id), eventstore.StreamRead{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	hist := make([]customer.Historic, len(evs))
	for i, ev := range evs {
		d, err := s.codec.Decode(ctx, ev)
		if err != nil {
			return nil, false, err
		}
		e, ok := d.Payload.(customer.Event)
		if !ok {
			return nil, false, fmt.Errorf("greeting: %s@%d: payload %T is not a customer event", ev.StreamID, ev.Revision, d.Payload)
		}
		hist[i] = customer.Historic{Event: e, Revision: ev.Revision, OccurredAt: ev.OccurredAt}
	}
	c, err := customer.Rehydrate(id, hist)
	return c, true, err
}

// loadCampaign rebuilds a campaign (an empty aggregate when unknown).
func (s streams) loadCampaign(ctx context.Context, id string) (*campaign.Campaign, error) {
	evs, err := s.store.ReadStream(ctx, eventstore.StreamID(campaign.StreamCategory, id), eventstore.StreamRead{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return campaign.New(id)
	}
	if err != nil {
		return nil, err
	}
	hist := make([]campaign.Historic, len(evs))
	for i, ev := range evs {
		d, err := s.codec.Decode(ctx, ev)
		if err != nil {
			return nil, err
		}
		e, ok := d.Payload.(campaign.Event)
		if !ok {
			return nil, fmt.Errorf("greeting: %s@%d: payload %T is not a campaign event", ev.StreamID, ev.Revision, d.Payload)
		}
		hist[i] = campaign.Historic{Event: e, Revision: ev.Revision, OccurredAt: ev.OccurredAt}
	}
	return campaign.Rehydrate(id, hist)
}

// encodeOne encodes the single pending event of an aggregate with a
// deterministic ID as an append that expects the loaded version. A retry of
// an append that is already stored succeeds without writing (the store's
// idempotent append).
func (s streams) encodeOne(ctx context.Context, stream string, rev uint64, exists bool, ev any, at codec.Envelope) (eventstore.StreamAppend, error) {
	rec, err := s.codec.Encode(ctx, stream, ev, at)
	if err != nil {
		return eventstore.StreamAppend{}, err
	}
	exp := eventstore.NoStream()
	if exists {
		exp = eventstore.Exact(rev)
	}
	return eventstore.StreamAppend{Stream: stream, Expected: exp, Records: []eventstore.Record{rec}}, nil
}

// appendOne encodes the single pending event of an aggregate (see
// encodeOne) and appends it.
func (s streams) appendOne(ctx context.Context, stream string, rev uint64, exists bool, ev any, at codec.Envelope) error {
	sa, err := s.encodeOne(ctx, stream, rev, exists, ev, at)
	if err != nil {
		return err
	}
	_, err = s.store.Append(ctx, sa.Stream, sa.Expected, sa.Records...)
	return err
}
