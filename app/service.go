package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// KeyDestroyer destroys a customer's personal-data key (pii.Vault).
type KeyDestroyer interface {
	Destroy(ctx context.Context, customerID string) error
}

// Service runs customer commands: the API's mutations and the process
// managers call it. Every method takes the customer ID and the revision the
// caller last saw (nil for none); see Repository.Update for the
// concurrency and idempotency rules.
type Service struct {
	repo       *Repository
	keys       KeyDestroyer
	replyClock customer.ReplyClock
}

// NewService returns a command service. keys destroys personal-data keys on
// erasure; replyClock computes complaints' reply-due times.
func NewService(repo *Repository, keys KeyDestroyer, replyClock customer.ReplyClock) (*Service, error) {
	var errs []error
	if repo == nil {
		errs = append(errs, fmt.Errorf("%w: no repository", ErrInvalidConfig))
	}
	if keys == nil {
		errs = append(errs, fmt.Errorf("%w: no key destroyer", ErrInvalidConfig))
	}
	if replyClock == nil {
		errs = append(errs, fmt.Errorf("%w: no reply clock", ErrInvalidConfig))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Service{repo: repo, keys: keys, replyClock: replyClock}, nil
}

// Repository is the service's repository, for reads.
func (s *Service) Repository() *Repository { return s.repo }

// Do runs one verb on a customer:
//
//	app.Do(ctx, svc, "c-42", nil, cmd, (*customer.Customer).LogContact)
//
// Most commands go through it; FileComplaint and Erase have their own
// methods because they need more than the verb.
func Do[C any](ctx context.Context, s *Service, customerID string, expected *uint64, cmd C, verb func(*customer.Customer, C, time.Time) error) (Result, error) {
	if err := aggregate.CheckText(cmd); err != nil {
		return Result{}, err
	}
	ctx = withRequestHash(ctx, requestHash(cmd))
	return s.repo.Update(ctx, customerID, expected, func(c *customer.Customer) error {
		return verb(c, cmd, s.repo.Now())
	})
}

// Register opens a new customer's stream.
func (s *Service) Register(ctx context.Context, customerID string, cmd customer.Register) (Result, error) {
	return Do(ctx, s, customerID, nil, cmd, (*customer.Customer).Register)
}

// FileComplaint files a complaint, its reply-due time from the service's
// reply clock.
func (s *Service) FileComplaint(ctx context.Context, customerID string, expected *uint64, cmd customer.FileComplaint) (Result, error) {
	if err := aggregate.CheckText(cmd); err != nil {
		return Result{}, err
	}
	ctx = withRequestHash(ctx, requestHash(cmd))
	return s.repo.Update(ctx, customerID, expected, func(c *customer.Customer) error {
		return c.FileComplaint(cmd, s.replyClock, s.repo.Now())
	})
}

// Erase records CustomerErased and then destroys the customer's
// personal-data key, after which every personal field in the customer's
// history reads as the erasure marker. If the key's destruction failed
// after the event was stored, calling Erase again finishes it (and still
// reports the domain's "already erased" refusal).
func (s *Service) Erase(ctx context.Context, customerID string, expected *uint64, cmd customer.Erase) (Result, error) {
	if err := aggregate.CheckText(cmd); err != nil {
		return Result{}, err
	}
	already := false
	ctx = withRequestHash(ctx, requestHash(cmd))
	res, err := s.repo.Update(ctx, customerID, expected, func(c *customer.Customer) error {
		already = c.Erased()
		return c.Erase(cmd, s.repo.Now())
	})
	if err != nil && !already {
		return Result{}, err
	}
	if derr := s.keys.Destroy(ctx, customerID); derr != nil {
		return Result{}, fmt.Errorf("app: erase customer %s: destroy key: %w", customerID, derr)
	}
	return res, err
}
