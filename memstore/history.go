package memstore

import (
	"context"

	"github.com/baldur-go/baldur"
)

type historyStore Store

var _ baldur.ConfigHistoryStore = (*historyStore)(nil)

func (h *historyStore) NextVersion(ctx context.Context, configType string) (int64, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return 0, err
	}
	s := (*Store)(h)
	if _, err := s.begin(ctx, "NextVersion"); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	s.counters[configType]++
	return s.counters[configType], nil
}

func (h *historyStore) SaveVersion(ctx context.Context, configType string, versionData baldur.Record, maxEntries int) error {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return err
	}
	b, err := encode("version of config type", configType, versionData)
	if err != nil {
		return err
	}
	s := (*Store)(h)
	if _, err := s.begin(ctx, "SaveVersion"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	old := s.histories[configType]
	keep := len(old)
	if maxEntries > 0 && keep > maxEntries-1 {
		keep = maxEntries - 1
	}
	// A fresh slice each time: the old one's dropped tail is garbage at once.
	hist := make([][]byte, 0, keep+1)
	hist = append(hist, b)
	hist = append(hist, old[:keep]...)
	s.histories[configType] = hist
	return nil
}

func (h *historyStore) GetCurrent(ctx context.Context, configType string) (baldur.Record, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return nil, err
	}
	s := (*Store)(h)
	if _, err := s.begin(ctx, "GetCurrent"); err != nil {
		return nil, err
	}
	hist := s.histories[configType]
	s.mu.Unlock()
	if len(hist) == 0 {
		return nil, notFound("current version of config type", configType)
	}
	return decode("current version of config type", configType, hist[0])
}

func (h *historyStore) GetHistory(ctx context.Context, configType string, limit int) ([]baldur.Record, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return nil, err
	}
	s := (*Store)(h)
	if _, err := s.begin(ctx, "GetHistory"); err != nil {
		return nil, err
	}
	hist := s.histories[configType] // never mutated: SaveVersion builds a new slice
	s.mu.Unlock()
	if limit > 0 && len(hist) > limit {
		hist = hist[:limit]
	}
	out := make([]baldur.Record, 0, len(hist))
	for _, b := range hist {
		r, err := decode("history of config type", configType, b)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (h *historyStore) GetVersionCount(ctx context.Context, configType string) (int, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return 0, err
	}
	s := (*Store)(h)
	if _, err := s.begin(ctx, "GetVersionCount"); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	return len(s.histories[configType]), nil
}

func (h *historyStore) Clear(ctx context.Context, configType string) error {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return err
	}
	s := (*Store)(h)
	if _, err := s.begin(ctx, "Clear"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.counters, configType)
	delete(s.histories, configType)
	return nil
}
