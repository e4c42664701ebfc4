package handlers

import (
	"log/slog"
	"net/http"

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
