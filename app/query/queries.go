// Package query is the read side of kefu's application: one handler type
// per area (customers, complaints, follow-ups, campaigns, calendar, events,
// analytics), answering from the read models (projections/readmodels) and,
// for questions "as of" a past instant, by folding the customer's own
// stream up to it through the same read-model code, so the two paths
// cannot disagree. Filters, paging, cursors and as-of folding live here;
// the API maps the types it returns to its transport.
//
// Errors are the domain's typed refusals (domain/aggregate): an unknown
// entity is a *aggregate.NotFoundError, a bad argument an
// *aggregate.InvalidInputError naming it.
package query

import (
	"errors"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/projections/dupindex"
	"github.com/kefu-crm/kefu/projections/readmodels"
)

// Deps are what the queries read from.
type Deps struct {
	// Set is the read models.
	Set *readmodels.Set
	// Store and Codec read (and open) a customer's stream for the views
	// that fold it: stage history, loyalty, the timeline, "as of".
	Store eventstore.Store
	Codec *codec.Codec
	// Clock is "now"; nil means time.Now.
	Clock func() time.Time
	// SendRules are the greeting send policy, for campaign previews.
	SendRules campaign.SendRules
	// Progress, if set, gives a running campaign's live counts (the
	// greeting dispatcher's tally is ahead of the read model while it
	// sends).
	Progress func(campaignID string) campaign.Counts
	// MaxScan overrides the events listing's scan bound (MaxScan); 0
	// keeps it.
	MaxScan int
	// Duplicates is the duplicates' blind index; nil answers no candidates.
	Duplicates *dupindex.Index
}

// Validate reports every missing dependency.
func (d Deps) Validate() error {
	var errs []error
	if d.Set == nil {
		errs = append(errs, errors.New("query: no read models"))
	}
	if d.Store == nil || d.Codec == nil {
		errs = append(errs, errors.New("query: Store and Codec are required"))
	}
	return errors.Join(errs...)
}

// core is what the handlers share: the read models and the cache of
// decoded customer streams.
type core struct {
	*readmodels.Set
	store     eventstore.Store
	codec     *codec.Codec
	clock     func() time.Time
	sendRules campaign.SendRules
	progress  func(string) campaign.Counts
	scanBound int
	cache     readCache
	dupes     *dupindex.Index
}

func (c *core) maxScan() int {
	if c.scanBound > 0 {
		return c.scanBound
	}
	return MaxScan
}

// The handlers. Each is a small value over the shared core.
type (
	// Customers serves customers and what hangs off one: stage history,
	// loyalty, timeline, greetings, expected purchases.
	Customers struct{ *core }
	// Complaints serves complaints.
	Complaints struct{ *core }
	// FollowUps serves the follow-up queues.
	FollowUps struct{ *core }
	// Campaigns serves greeting campaigns and previews.
	Campaigns struct{ *core }
	// Calendar serves the built-in holiday calendars.
	Calendar struct{ *core }
	// Events serves raw history in global order.
	Events struct{ *core }
	// Analytics serves the analysts' and managers' reports.
	Analytics struct{ *core }
)

// Queries are the handlers of every read.
type Queries struct {
	Customers  Customers
	Complaints Complaints
	FollowUps  FollowUps
	Campaigns  Campaigns
	Calendar   Calendar
	Events     Events
	Analytics  Analytics
	// NextActions ranks what to do next per account manager.
	NextActions NextActions
	// Playbooks tells what resolved each kind of complaint.
	Playbooks Playbooks
	// Duplicates finds customers who are probably one person.
	Duplicates Duplicates
	// Directory walks the book for the greeting dispatcher and the
	// scheduling of campaigns.
	Directory campaign.Directory
	// Stages gives a customer's current stage.
	Stages campaign.StageSource
}

// New builds the handlers.
func New(d Deps) (Queries, error) {
	if err := d.Validate(); err != nil {
		return Queries{}, err
	}
	c := &core{Set: d.Set, store: d.Store, codec: d.Codec, clock: d.Clock, sendRules: d.SendRules, progress: d.Progress, scanBound: d.MaxScan, dupes: d.Duplicates}
	if c.clock == nil {
		c.clock = time.Now
	}
	return Queries{
		Customers: Customers{c}, Complaints: Complaints{c}, FollowUps: FollowUps{c}, Campaigns: Campaigns{c},
		Calendar: Calendar{c}, Events: Events{c}, Analytics: Analytics{c},
		NextActions: NextActions{c}, Playbooks: Playbooks{c}, Duplicates: Duplicates{c},
		Directory: directory{c}, Stages: campaign.StageFunc(c.stageOf),
	}, nil
}

func notFound(kind, id string) error { return &aggregate.NotFoundError{Kind: kind, ID: id} }
