package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/domain/customer"
)

// Undoing a merge (unmergeCustomers).

// unmergeRequest is an unmergeCustomers input.
type unmergeRequest struct {
	Survivor string
	Unmerged []string
	Expected []uint64
	customer.UnmergeCustomers
}

const descUnmerge = "Undo an earlier merge (mergeCustomers) of some customers into this survivor, within the merge policy's window " +
	"after it (kefu serve --unmerge-window, default 30 days): appends CustomersUnmerged{ids} on the survivor's stream and " +
	"CustomerUnmerged{from} on each restored customer's, all or none; the merge stays in both histories. From then on each " +
	"restored customer is its own again (customer(id) answers with it, mergedInto null; commands on it are accepted) and " +
	"the survivor's history, mergedFrom and counts no longer include it; as of an instant between the merge and the " +
	"unmerge they are still one customer. The survivor keeps its current profile (fields the merge took stay; change " +
	"them with updateProfile); the restored customer's profile is its own, which the merge never changed. Refused, with " +
	"nothing appended: a customer not merged into this survivor now (FAILED_PRECONDITION), the window passed " +
	"(FAILED_PRECONDITION, extensions.windowClosedAt), an erased survivor or one merged into another, the survivor " +
	"itself or an id twice, empty by or reason (BAD_USER_INPUT), an unknown id (NOT_FOUND), stale expectedVersions (CONFLICT)."

func (b *builder) unmergeMutation() mutation {
	fields := []field[unmergeRequest]{
		{name: "survivorId", typ: nn(gql.ID), desc: "The customer the others were merged into.",
			read: func(a *args, n string, r *request[unmergeRequest]) { r.Cmd.Survivor = a.str(n) }},
		{name: "unmergedIds", typ: nn(gql.NewList(nn(gql.ID))), desc: "The customers to restore (each merged directly into the survivor).",
			read: func(a *args, n string, r *request[unmergeRequest]) { r.Cmd.Unmerged = a.strs(n) }},
		inStr("by", "Who unmerges.", func(c *unmergeRequest, v string) { c.By = v }),
		inStr("reason", "Why they are not one customer.", func(c *unmergeRequest, v string) { c.Reason = v }),
		{name: "expectedVersions", typ: gql.NewList(nn(gql.Int)),
			desc: "Fail with CONFLICT unless the streams are at these versions: the survivor's first (Customer.version), then each unmerged customer's in unmergedIds order.",
			read: func(a *args, n string, r *request[unmergeRequest]) { r.Cmd.Expected = a.versions(n) }},
		{name: "idempotencyKey", typ: gql.String, desc: descIdem, read: func(a *args, n string, r *request[unmergeRequest]) { r.Key = a.idemKey(n) }},
	}
	return mutation{name: "unmergeCustomers", desc: descUnmerge, perm: permWriteCustomer, payload: b.customerPayload,
		input: inputObject("UnmergeCustomersInput", "Customers to restore from a survivor they were merged into.", fields),
		run: func(ctx context.Context, by Actor, a *args) (any, error) {
			r := read(a, fields)
			if a.err != nil {
				return nil, a.err
			}
			res, err := b.c.UnmergeCustomers.Handle(commandContext(ctx, by, r.Key), r.Cmd.Survivor, r.Cmd.Unmerged, r.Cmd.Expected, r.Cmd.UnmergeCustomers)
			if err != nil {
				return nil, err
			}
			return b.customerAfter(ctx, res)
		}}
}
