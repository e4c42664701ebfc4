package handlers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
)

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
