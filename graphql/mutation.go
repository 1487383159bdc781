package graphql

import (
	"context"
	"fmt"
	"maps"
	"time"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// futureSkew is how far occurredAt may lie ahead of the server clock (client
// clocks drift); beyond it the input is refused as in the future.
const futureSkew = 5 * time.Second

const (
	descOccurredAt = "Business time of the fact; default now. May be in the past (backfill), but never in the future nor before the customer was registered (a complaint step: before the complaint was filed)."
	descExpected   = "Fail with CONFLICT unless the stream is at this version (Customer.version)."
	descIdem       = "A retried call with the same key appends nothing new and returns the same result."
)

func nn(t gql.Input) gql.Input { return gql.NewNonNull(t) }

func (b *builder) checkOccurred(a *args, t *time.Time) {
	if t != nil && t.After(b.now().Add(futureSkew)) && a.err == nil {
		a.err = badInput(a.prefix+"occurredAt", "occurredAt must not be in the future")
	}
}

func check(a *args, ok bool, field, msg string) {
	if !ok && a.err == nil {
		a.err = badInput(a.prefix+field, msg)
	}
}

// mutation is one mutation: who may call it, its input and payload, and
// how its input runs.
type mutation struct {
	name, desc string
	// step is the domain's name of what the mutation does, when a
	// refusal's list of allowed steps may name it (customer.ComplaintStep).
	step    string
	perm    permission
	input   *gql.InputObject
	payload *gql.Object
	run     func(ctx context.Context, by Actor, a *args) (any, error)
}

// mutations registers every area's mutations.
func (b *builder) mutations() gql.Fields {
	b.payloads()
	fields := gql.Fields{}
	byStep := map[string]string{}
	for _, ms := range [][]mutation{b.customerMutations(), b.complaintMutations(), b.followUpMutations(), b.campaignMutations()} {
		for _, m := range ms {
			if _, dup := fields[m.name]; dup {
				panic(fmt.Sprintf("graphql: mutation %q defined twice", m.name))
			}
			if m.step != "" {
				byStep[m.step] = m.name
			}
			fields[m.name] = &gql.Field{
				Type:        gql.NewNonNull(m.payload),
				Description: m.desc + " Allowed for: " + rolesWith(m.perm) + ".",
				Args: gql.FieldConfigArgument{
					"input": {Type: gql.NewNonNull(m.input), Description: "The command's arguments."},
				},
				Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
					actor, err := require(p.Context, m.perm)
					if err != nil {
						return nil, err
					}
					a := newArgs(p.Args, "")
					inp := a.obj("input")
					if inp == nil {
						return nil, badInput("input", "input is required")
					}
					inp.prefix = "input."
					v, err := m.run(p.Context, actor, inp)
					if err != nil {
						return nil, allowedMutations(underInput(toError(p.Context, b.log, err)), byStep)
					}
					return v, nil
				}),
			}
		}
	}
	for _, step := range customer.ComplaintSteps() {
		if _, ok := byStep[string(step)]; !ok {
			panic(fmt.Sprintf("graphql: no mutation takes the complaint step %q", step))
		}
	}
	return fields
}

// allowedMutations names the steps a refusal allows (extensions.allowed,
// the domain's names) by the mutations that take them, so a client can
// act on the list; steps no mutation takes keep the domain's name.
func allowedMutations(err *Error, byStep map[string]string) *Error {
	steps, ok := err.Details["allowed"].([]string)
	if !ok {
		return err
	}
	names := make([]string, len(steps))
	for i, s := range steps {
		if n, ok := byStep[s]; ok {
			s = n
		}
		names[i] = s
	}
	out := *err
	out.Details = maps.Clone(err.Details)
	out.Details["allowed"] = names
	return &out
}

func rolesWith(p permission) string {
	s := ""
	for _, r := range []Role{RoleAdmin, RoleAccountManager, RoleMarketing, RoleAnalyst} {
		if r.allowed(p) {
			if s != "" {
				s += ", "
			}
			s += string(r)
		}
	}
	return s
}

// The payloads: the aggregate after the command (read your writes) and
// the stream version it reached.
type (
	customerResult struct {
		Customer query.Customer
		Version  int
	}
	complaintResult struct {
		Complaint query.Complaint
		Version   int
	}
	followUpResult struct {
		FollowUp query.FollowUp
		Version  int
	}
	campaignResult struct {
		Campaign query.Campaign
	}
)

func (b *builder) payloads() {
	b.customerPayload = gql.NewObject(gql.ObjectConfig{
		Name:        "CustomerPayload",
		Description: "Result of a customer mutation: the customer after it, and the stream version reached.",
		Fields: gql.Fields{
			"customer": {Type: gql.NewNonNull(b.customer), Description: "The customer after the mutation.", Resolve: get(func(r *customerResult) any { return &r.Customer })},
			"version":  {Type: gql.NewNonNull(gql.Int), Description: "Stream revision after the mutation.", Resolve: get(func(r *customerResult) any { return r.Version })},
		},
	})
	b.complaintPayload = gql.NewObject(gql.ObjectConfig{
		Name:        "ComplaintPayload",
		Description: "Result of a complaint mutation.",
		Fields: gql.Fields{
			"complaint": {Type: gql.NewNonNull(b.complaint), Description: "The complaint after the mutation.", Resolve: get(func(r *complaintResult) any { return &r.Complaint })},
			"version":   {Type: gql.NewNonNull(gql.Int), Description: "Customer stream revision after the mutation.", Resolve: get(func(r *complaintResult) any { return r.Version })},
		},
	})
	b.followUpPayload = gql.NewObject(gql.ObjectConfig{
		Name:        "FollowUpPayload",
		Description: "Result of a follow-up mutation.",
		Fields: gql.Fields{
			"followUp": {Type: gql.NewNonNull(b.followUp), Description: "The follow-up after the mutation.", Resolve: get(func(r *followUpResult) any { return &r.FollowUp })},
			"version":  {Type: gql.NewNonNull(gql.Int), Description: "Customer stream revision after the mutation.", Resolve: get(func(r *followUpResult) any { return r.Version })},
		},
	})
	b.campaignPayload = gql.NewObject(gql.ObjectConfig{
		Name:        "CampaignPayload",
		Description: "Result of a campaign mutation.",
		Fields: gql.Fields{
			"campaign": {Type: gql.NewNonNull(b.campaign), Description: "The campaign after the mutation.", Resolve: get(func(r *campaignResult) any { return &r.Campaign })},
		},
	})
}

// customerMutation is a mutation of one customer's stream whose input names
// the customer (customerId), with the shared fields m; handle runs the
// command and the payload is the customer after it.
func customerMutation[C any](b *builder, name, desc, inputName, inputDesc string, perm permission, m shared,
	fields []field[C], handle func(ctx context.Context, r request[C]) (command.Result, error)) mutation {
	fields = append(append([]field[C]{customerID[C]("The customer.")}, fields...), meta[C](b, m)...)
	return mutation{name: name, desc: desc, perm: perm, payload: b.customerPayload, input: inputObject(inputName, inputDesc, fields),
		run: func(ctx context.Context, by Actor, a *args) (any, error) {
			r := read(a, fields)
			if a.err != nil {
				return nil, a.err
			}
			res, err := handle(commandContext(ctx, by, r.Key), r)
			if err != nil {
				return nil, err
			}
			return b.customerAfter(ctx, res)
		}}
}

// customerAfter is the payload of a customer command once the read models
// show it.
func (b *builder) customerAfter(ctx context.Context, res command.Result) (any, error) {
	if err := b.app.Await(ctx, res); err != nil {
		return nil, err
	}
	v, err := b.q.Customers.Get(ctx, res.ID, nil)
	if err != nil {
		return nil, err
	}
	return &customerResult{Customer: v, Version: int(res.Revision)}, nil
}

// defaultStages are the audience stages a campaign takes by default:
// every stage but LOST.
func defaultStages() []any {
	var out []any
	for _, s := range lifecycle.Stages() {
		if s != lifecycle.StageLost {
			out = append(out, s.String())
		}
	}
	return out
}
