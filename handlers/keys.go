package handlers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
)

// pathCategory reads a record category from the path.
func pathCategory(r *http.Request) recordvault.Category {
	return recordvault.Category(mux.Vars(r)["category"]) // the service checks it
}

func handleRotateKey(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		v, err := svc.RotateKey(r.Context(), caller(r), pathCategory(r))
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleRewrapKeys(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			After string `json:"after"`
			Limit int    `json:"limit"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.RewrapKeys(r.Context(), caller(r), pathCategory(r), body.After, body.Limit)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleRetireKeyVersions(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			MinVersion int `json:"min_version"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.RetireKeyVersions(r.Context(), caller(r), pathCategory(r), body.MinVersion)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleSweepUploads(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			OlderThan string `json:"older_than"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		olderThan, err := time.ParseDuration(body.OlderThan)
		if err != nil {
			return recordvault.Errorf(recordvault.EINVALID, "older_than: a duration such as 24h")
		}
		v, err := svc.SweepUnfinished(r.Context(), caller(r), olderThan)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}
