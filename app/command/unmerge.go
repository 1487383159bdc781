package command

import (
	"context"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// UnmergeCustomers undoes an earlier merge of some customers into a
// survivor within the merge policy's window (Config.Merge): it loads every
// stream, lets the domain decide (customer.Unmerge), and appends
// CustomerUnmerged on each restored stream and CustomersUnmerged on the
// survivor's in one all-or-nothing append at the revisions it loaded, as
// MergeCustomers does (and, on a store without an atomic multi-stream
// append, resumable the same way: send an idempotencyKey).
type UnmergeCustomers struct {
	repo   *Customers
	policy customer.MergePolicy
}

// unmergeRequest is what an unmerge's idempotency key is bound to.
type unmergeRequest struct {
	Survivor string
	Unmerged []string
	Expected []uint64
	Cmd      customer.UnmergeCustomers
}

// Handle unmerges unmergedIDs from survivorID. expected, when given,
// holds the revision the caller last saw of the survivor and then of each
// unmerged customer in order (len(unmergedIDs)+1 entries); a stream at
// another revision is a *ConflictError and nothing is appended. The
// Result is the survivor's.
func (h UnmergeCustomers) Handle(ctx context.Context, survivorID string, unmergedIDs []string, expected []uint64, cmd customer.UnmergeCustomers) (Result, error) {
	res, err := h.handle(ctx, survivorID, unmergedIDs, expected, cmd)
	return res, lastSurvivor(ctx, h.repo, err)
}

func (h UnmergeCustomers) handle(ctx context.Context, survivorID string, unmergedIDs []string, expected []uint64, cmd customer.UnmergeCustomers) (Result, error) {
	if err := aggregate.CheckText(cmd); err != nil {
		return Result{}, err
	}
	req := unmergeRequest{Survivor: survivorID, Unmerged: unmergedIDs, Expected: expected, Cmd: cmd}
	return updateMany(ctx, h.repo, "unmerge customers from", "unmergedIds", survivorID, unmergedIDs, expected, req,
		func(s *customer.Customer, others []*customer.Customer, now time.Time) error {
			return customer.Unmerge(s, others, cmd, h.policy, now)
		})
}
