// Package command is the write side of kefu's application: one handler per
// use case, every one of them writing through the aggregate Repository
// (load, decide with the domain's verbs, append at the loaded revision),
// so that metadata, idempotency and expected-revision rules live in one
// place. The API and the process managers call these handlers; nothing
// else appends to a customer's or a campaign's stream.
//
// Adding a customer or complaint use case is a verb in domain/customer and
// one field here (NewCustomerVerb / NewOwnedVerb).
package command

import (
	"errors"
	"fmt"

	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
)

// Deps are what the handlers need besides the store: the read models that
// answer "whose complaint is this" and "who is in the book", the working
// calendar and the key store.
type Deps struct {
	// Complaints and FollowUps find the customer a complaint or follow-up
	// belongs to.
	Complaints, FollowUps Owners
	// ReplyClock computes complaints' reply-due times.
	ReplyClock customer.ReplyClock
	// Keys destroys personal-data keys on erasure.
	Keys KeyDestroyer
	// Directory and Stages give the book and its stages, for counting a
	// new campaign's audience.
	Directory campaign.Directory
	Stages    campaign.StageSource
}

// Validate reports every missing dependency.
func (d Deps) Validate() error {
	var errs []error
	if d.Complaints == nil || d.FollowUps == nil {
		errs = append(errs, fmt.Errorf("%w: Complaints and FollowUps are required", ErrInvalidConfig))
	}
	if d.ReplyClock == nil {
		errs = append(errs, fmt.Errorf("%w: no reply clock", ErrInvalidConfig))
	}
	if d.Keys == nil {
		errs = append(errs, fmt.Errorf("%w: no key destroyer", ErrInvalidConfig))
	}
	if d.Directory == nil || d.Stages == nil {
		errs = append(errs, fmt.Errorf("%w: Directory and Stages are required", ErrInvalidConfig))
	}
	return errors.Join(errs...)
}

// Commands are the handlers of every use case that writes.
type Commands struct {
	// The repositories, for process managers that load and decide
	// themselves (the follow-up scheduler, the greeting dispatcher).
	Customers *Customers
	Campaigns *Campaigns

	// Customer.
	RegisterCustomer    RegisterCustomer
	UpdateProfile       CustomerVerb[customer.UpdateProfile]
	SetMarketingConsent CustomerVerb[customer.SetMarketingConsent]
	LogContact          CustomerVerb[customer.LogContact]
	RecordPurchase      CustomerVerb[customer.RecordPurchase]
	RecordReferral      CustomerVerb[customer.RecordReferral]
	VoiceGrumble        CustomerVerb[customer.VoiceGrumble]
	RecordSatisfaction  CustomerVerb[customer.RecordSatisfaction]
	MarkLost            CustomerVerb[customer.MarkLost]
	FlagConduct         CustomerVerb[customer.FlagConduct]
	EraseCustomer       EraseCustomer
	MergeCustomers      MergeCustomers
	UnmergeCustomers    UnmergeCustomers

	// Complaints.
	FileComplaint        FileComplaint
	AcknowledgeComplaint OwnedVerb[customer.AcknowledgeComplaint]
	EscalateComplaint    OwnedVerb[customer.EscalateComplaint]
	DeclineComplaint     OwnedVerb[customer.DeclineComplaint]
	TransferComplaint    OwnedVerb[customer.TransferComplaint]
	ProposeResolution    OwnedVerb[customer.ProposeResolution]
	AcceptResolution     OwnedVerb[customer.AcceptResolution]
	TakeRecoveryStep     OwnedVerb[customer.TakeRecoveryStep]
	ResolveComplaint     OwnedVerb[customer.ResolveComplaint]
	ReopenComplaint      OwnedVerb[customer.ReopenComplaint]
	FileIncidentReport   OwnedVerb[customer.FileIncidentReport]

	// Follow-ups.
	ScheduleFollowUp ScheduleFollowUp
	CompleteFollowUp OwnedVerb[customer.CompleteFollowUp]

	// Greeting campaigns.
	ScheduleCampaign ScheduleCampaign
	CancelCampaign   CancelCampaign
}

// New builds every handler over one store and codec (cfg).
func New(cfg Config, d Deps) (Commands, error) {
	if err := errors.Join(cfg.Validate(), d.Validate()); err != nil {
		return Commands{}, err
	}
	customers, err := NewCustomers(cfg)
	if err != nil {
		return Commands{}, err
	}
	campaigns, err := NewCampaigns(cfg)
	if err != nil {
		return Commands{}, err
	}
	r := customers
	return Commands{
		Customers: customers,
		Campaigns: campaigns,

		RegisterCustomer:    RegisterCustomer{repo: r},
		UpdateProfile:       NewCustomerVerb(r, (*customer.Customer).UpdateProfile),
		SetMarketingConsent: NewCustomerVerb(r, (*customer.Customer).SetMarketingConsent),
		LogContact:          NewCustomerVerb(r, (*customer.Customer).LogContact),
		RecordPurchase:      NewCustomerVerb(r, (*customer.Customer).RecordPurchase),
		RecordReferral:      NewCustomerVerb(r, (*customer.Customer).RecordReferral),
		VoiceGrumble:        NewCustomerVerb(r, (*customer.Customer).VoiceGrumble),
		RecordSatisfaction:  NewCustomerVerb(r, (*customer.Customer).RecordSatisfaction),
		MarkLost:            NewCustomerVerb(r, (*customer.Customer).MarkLost),
		FlagConduct:         NewCustomerVerb(r, (*customer.Customer).FlagConduct),
		EraseCustomer:       EraseCustomer{repo: r, keys: d.Keys},
		MergeCustomers:      MergeCustomers{repo: r},
		UnmergeCustomers:    UnmergeCustomers{repo: r, policy: cfg.Merge},

		FileComplaint:        FileComplaint{repo: r, owners: d.Complaints, reply: d.ReplyClock},
		AcknowledgeComplaint: NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.AcknowledgeComplaint) string { return c.ComplaintID }, (*customer.Customer).AcknowledgeComplaint),
		EscalateComplaint:    NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.EscalateComplaint) string { return c.ComplaintID }, (*customer.Customer).EscalateComplaint),
		DeclineComplaint:     NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.DeclineComplaint) string { return c.ComplaintID }, (*customer.Customer).DeclineComplaint),
		TransferComplaint:    NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.TransferComplaint) string { return c.ComplaintID }, (*customer.Customer).TransferComplaint),
		ProposeResolution:    NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.ProposeResolution) string { return c.ComplaintID }, (*customer.Customer).ProposeResolution),
		AcceptResolution:     NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.AcceptResolution) string { return c.ComplaintID }, (*customer.Customer).AcceptResolution),
		TakeRecoveryStep:     NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.TakeRecoveryStep) string { return c.ComplaintID }, (*customer.Customer).TakeRecoveryStep),
		ResolveComplaint:     NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.ResolveComplaint) string { return c.ComplaintID }, (*customer.Customer).ResolveComplaint),
		ReopenComplaint:      NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.ReopenComplaint) string { return c.ComplaintID }, (*customer.Customer).ReopenComplaint),
		FileIncidentReport:   NewOwnedVerb(r, "complaint", d.Complaints, func(c customer.FileIncidentReport) string { return c.ComplaintID }, (*customer.Customer).FileIncidentReport),

		ScheduleFollowUp: ScheduleFollowUp{repo: r},
		CompleteFollowUp: NewOwnedVerb(r, "follow-up", d.FollowUps, func(c customer.CompleteFollowUp) string { return c.FollowUpID }, (*customer.Customer).CompleteFollowUp),

		ScheduleCampaign: ScheduleCampaign{repo: campaigns, dir: d.Directory, stages: d.Stages},
		CancelCampaign:   CancelCampaign{repo: campaigns},
	}, nil
}
