package clinic

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/policy"
)

// Personal representatives (45 CFR 164.502(g)): a parent or guardian of a minor, or a person
// with legal authority for an adult, acting through a login of their own. The client's
// profile keeps each one's blind index with what the clinic knows of them (the facts
// policy.Represents weighs), under the profile's tag, so a bucket writer can neither add a
// representative nor change what is known of one; an index entry per representative finds
// the clients a login acts for. Whether they may act, and for what, is the policy's decision,
// made each time from these facts, the client's age and the clinic's jurisdiction.

// Representative is a login that may act for a client, as the clinic knows it.
type Representative struct {
	Account string `json:"account"` // the blind index of the login's subject
	policy.Representation
	// ConsentedToOwnCare: the client, a minor, consented to this care or could lawfully get
	// it without a parent (164.502(g)(3)(i)(A), (B)), as the clinic knows it.
	ConsentedToOwnCare bool `json:"consented_to_own_care,omitempty"`
}

// MaxRepresentatives bounds the representatives of one client.
const MaxRepresentatives = 8

// representativeIndex is the blind index of subject as a representative in clinic.
func (s *Service) representativeIndex(ctx context.Context, clinic, subject string) (string, error) {
	mac, err := s.keys.HMAC(ctx, IndexKeyName(clinic), recordvault.RepresentativeIndexInput(subject))
	if err != nil {
		return "", fmt.Errorf("clinic: representative index: %w", err)
	}
	return hex.EncodeToString(mac), nil
}

// LinkRepresentative records subject's login as a personal representative of c with rep
// (replacing what was known of it). The index entry is written first, so the client is found
// from the login no later than the profile names it.
func (s *Service) LinkRepresentative(ctx context.Context, c *Client, subject string, rep Representative) error {
	index, err := s.representativeIndex(ctx, c.Clinic, subject)
	if err != nil {
		return err
	}
	rep.Account = index
	others := slices.DeleteFunc(slices.Clone(c.p.Representatives), func(r Representative) bool { return r.Account == index })
	if len(others) >= MaxRepresentatives {
		return recordvault.Errorf(recordvault.ECONFLICT, "a client has at most %d personal representatives", MaxRepresentatives)
	}
	if err := s.store.AddIndex(ctx, c.Clinic, index, c.ID); err != nil {
		return fmt.Errorf("clinic: index representative: %w", err)
	}
	return s.replaceProfile(ctx, c, func(p *Profile) { p.Representatives = append(others, rep) })
}

// UnlinkRepresentative ends subject's standing as a personal representative of c: the
// profile first, so that the index entry left behind by a failure finds nothing.
func (s *Service) UnlinkRepresentative(ctx context.Context, c *Client, subject string) error {
	index, err := s.representativeIndex(ctx, c.Clinic, subject)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(c.p.Representatives, func(r Representative) bool { return r.Account == index }) {
		return recordvault.ErrNotFound
	}
	if err := s.replaceProfile(ctx, c, func(p *Profile) {
		p.Representatives = slices.DeleteFunc(slices.Clone(p.Representatives), func(r Representative) bool { return r.Account == index })
	}); err != nil {
		return err
	}
	if err := s.store.RemoveIndex(ctx, c.Clinic, index, c.ID); err != nil {
		return fmt.Errorf("clinic: unindex representative: %w", err)
	}
	return nil
}

// RepresentativeOf returns what c's profile knows of subject's login as their personal
// representative; ok is false when it is none.
func (s *Service) RepresentativeOf(ctx context.Context, c *Client, subject string) (rep Representative, ok bool, err error) {
	index, err := s.representativeIndex(ctx, c.Clinic, subject)
	if err != nil {
		return Representative{}, false, err
	}
	i := slices.IndexFunc(c.p.Representatives, func(r Representative) bool { return r.Account == index })
	if i < 0 {
		return Representative{}, false, nil
	}
	return c.p.Representatives[i], true, nil
}

// Represented returns the clients whose profiles name subject's login as a personal
// representative (an index entry whose profile no longer names it is passed over).
func (s *Service) Represented(ctx context.Context, clinic, subject string) ([]*Client, error) {
	index, err := s.representativeIndex(ctx, clinic, subject)
	if err != nil {
		return nil, err
	}
	ids, err := s.store.FindIndex(ctx, clinic, index)
	if err != nil {
		return nil, fmt.Errorf("clinic: find representative: %w", err)
	}
	var out []*Client
	for _, id := range ids {
		c, err := s.LoadClient(ctx, clinic, id)
		if errors.Is(err, recordvault.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(c.p.Representatives, func(r Representative) bool { return r.Account == index }) {
			out = append(out, c)
		}
	}
	return out, nil
}
