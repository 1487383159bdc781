package greeting

import (
	"github.com/google/uuid"

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
)

// GreetingID is the ID of the event recording the outcome of campaignID for
// customerID, and the idempotency key of its delivery.
func GreetingID(campaignID, customerID string) uuid.UUID {
	return codec.DeterministicID(NamespaceGreeting, campaignID+"/"+customerID)
}
