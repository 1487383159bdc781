package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/domain/customer"
)

// Merging duplicate customers (mergeCustomers).
//
// A command on a merged customer's id is refused with FAILED_PRECONDITION
// naming the survivor (extensions.into), not redirected: the expected
// version a client sends belongs to the stream it read, so a silent
// redirect could apply it to another stream. Reads are redirected:
// customer(id: mergedId) answers with the survivor.

// mergeRequest is a mergeCustomers input.
type mergeRequest struct {
	Survivor string
	Merged   []string
	Expected []uint64
	customer.MergeCustomers
}

const descMerge = "Merge duplicate customers into a survivor: appends CustomerMerged{into} on each merged customer's stream and " +
	"CustomersMergedIn{from} on the survivor's, all or none, and copies or rewrites no event. From then on every read " +
	"model shows one customer (customer(id) of a merged id answers with the survivor; its timeline interleaves both " +
	"histories). Commands on a merged id are refused with FAILED_PRECONDITION naming the survivor (extensions.into), " +
	"not redirected. Refused, with nothing appended: merging a customer into itself, into or from an erased or " +
	"already-merged customer, a merge that would cycle, an unknown id (NOT_FOUND), stale expectedVersions (CONFLICT). " +
	"unmergeCustomers undoes a merge within the merge policy's window."

func (b *builder) mergeMutation() mutation {
	fields := []field[mergeRequest]{
		{name: "survivorId", typ: nn(gql.ID), desc: "The customer that carries on (its profile wins unless profile picks fields).",
			read: func(a *args, n string, r *request[mergeRequest]) { r.Cmd.Survivor = a.str(n) }},
		{name: "mergedIds", typ: nn(gql.NewList(nn(gql.ID))), desc: "The duplicates merged into the survivor.",
			read: func(a *args, n string, r *request[mergeRequest]) { r.Cmd.Merged = a.strs(n) }},
		inStr("by", "Who merges.", func(c *mergeRequest, v string) { c.By = v }),
		inStr("reason", "Why they are one customer.", func(c *mergeRequest, v string) { c.Reason = v }),
		{name: "expectedVersions", typ: gql.NewList(nn(gql.Int)),
			desc: "Fail with CONFLICT unless the streams are at these versions (Customer.version): the survivor's first, then each merged customer's in mergedIds order.",
			read: func(a *args, n string, r *request[mergeRequest]) { r.Cmd.Expected = a.versions(n) }},
		{name: "profile", typ: gql.NewList(nn(b.profileChoiceInput())),
			desc: "Profile fields taken from a merged customer instead of the survivor (recorded in CustomersMergedIn).",
			read: func(a *args, n string, r *request[mergeRequest]) {
				for _, o := range a.objs(n) {
					r.Cmd.Profile = append(r.Cmd.Profile, customer.ProfileChoice{Field: o.str("field"), From: o.str("from")})
					a.join(o)
				}
			}},
		{name: "idempotencyKey", typ: gql.String, desc: descIdem, read: func(a *args, n string, r *request[mergeRequest]) { r.Key = a.idemKey(n) }},
	}
	return mutation{name: "mergeCustomers", desc: descMerge, perm: permWriteCustomer, payload: b.customerPayload,
		input: inputObject("MergeCustomersInput", "Duplicates to merge into a survivor.", fields),
		run: func(ctx context.Context, by Actor, a *args) (any, error) {
			r := read(a, fields)
			if a.err != nil {
				return nil, a.err
			}
			res, err := b.c.MergeCustomers.Handle(commandContext(ctx, by, r.Key), r.Cmd.Survivor, r.Cmd.Merged, r.Cmd.Expected, r.Cmd.MergeCustomers)
			if err != nil {
				return nil, err
			}
			return b.customerAfter(ctx, res)
		}}
}

func (b *builder) profileChoiceInput() *gql.InputObject {
	return gql.NewInputObject(gql.InputObjectConfig{
		Name:        "ProfileChoiceInput",
		Description: "One profile field taken from a merged customer.",
		Fields: gql.InputObjectConfigFieldMap{
			"field": {Type: nn(gql.String), Description: "A profile field: name, phone, email, wechat, birthday, tier, segment, accountManager, timezone or locale."},
			"from":  {Type: nn(gql.ID), Description: "The merged customer whose value wins."},
		},
	})
}

// versions reads a list of stream versions (not negative).
func (a *args) versions(name string) []uint64 {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		a.fail(name, "a list of versions")
		return nil
	}
	out := make([]uint64, 0, len(list))
	for _, x := range list {
		n, ok := x.(int)
		if !ok || n < 0 {
			a.failWith(name, name+" must be versions (not negative)")
			return nil
		}
		out = append(out, uint64(n))
	}
	return out
}

// nonNilIDs is ids, or an empty list for nil (a non-null list field).
func nonNilIDs(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
