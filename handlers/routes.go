package handlers

import (
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/recordvault/recordvault/app"
)

// addRoutes lists every route of the service, so the whole API can be read in one place.
// docs/openapi.yaml describes the same routes; TestOpenAPIMatchesRoutes keeps them in step.
// The routes without a login are limited per client address (lim), and their download
// tokens per token. The client portal's pages are served when there is a portal.
func addRoutes(r *mux.Router, logger *slog.Logger, checks []ReadinessCheck, verifier TokenVerifier, svc *app.Service, lim *limits, portal *Portal) {
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", handleReadyz(logger, checks, false)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/downloads", lim.byAddress(handleDownload(logger, verifier, svc, lim))).Methods(http.MethodPost)
	r.Handle("/downloads/code", lim.byAddress(handleRequestCode(logger, svc, lim))).Methods(http.MethodPost)
	r.Handle("/downloads/session", lim.byAddress(handleResumeDownload(logger, verifier, svc, lim))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/r", lim.byAddress(handlePage(logger))).Methods(http.MethodGet)
	r.Handle("/r/code", lim.byAddress(handlePageCode(logger, svc, lim))).Methods(http.MethodPost)
	r.Handle("/r/download", lim.byAddress(handlePageDownload(logger, svc, lim))).Methods(http.MethodPost)
	if portal != nil {
		r.Handle("/portal", http.RedirectHandler("/portal/", http.StatusMovedPermanently)).Methods(http.MethodGet)
		r.Handle("/portal/", lim.byAddress(portal.handleHome())).Methods(http.MethodGet)
		r.Handle("/portal/rules", lim.byAddress(portal.handleRules())).Methods(http.MethodGet)
		r.Handle("/portal/signin", lim.byAddress(portal.handleSignIn())).Methods(http.MethodGet)
		r.Handle("/portal/callback", lim.byAddress(portal.handleCallback())).Methods(http.MethodGet)
		r.Handle("/portal/signout", lim.byAddress(portal.handleSignOut())).Methods(http.MethodPost)
		r.Handle("/portal/acting-for", lim.byAddress(portal.handleActingFor())).Methods(http.MethodPost)
		r.Handle("/portal/staff", lim.byAddress(portal.handleStaff())).Methods(http.MethodGet)
		r.Handle("/portal/records", lim.byAddress(portal.handleRecords())).Methods(http.MethodGet)
		r.Handle("/portal/records/{record}", lim.byAddress(portal.handleRecord())).Methods(http.MethodGet)
		r.Handle("/portal/records/{record}/amendments", lim.byAddress(portal.handleAskForChange())).Methods(http.MethodPost)
		r.Handle("/portal/records/{record}/amendments/{amendment}/disagreement", lim.byAddress(portal.handleDisagree())).Methods(http.MethodPost)
		r.Handle("/portal/copies", lim.byAddress(portal.handleCopies())).Methods(http.MethodGet)
		r.Handle("/portal/copies/{release}", lim.byAddress(portal.handleDownloadCopy())).Methods(http.MethodPost)
		r.Handle("/portal/requests", lim.byAddress(portal.handleRequests())).Methods(http.MethodGet)
		r.Handle("/portal/requests", lim.byAddress(portal.handleAskForRecords())).Methods(http.MethodPost)
		r.Handle("/portal/authorizations", lim.byAddress(portal.handleAuthorizations())).Methods(http.MethodGet)
		r.Handle("/portal/authorizations", lim.byAddress(portal.handleAuthorize())).Methods(http.MethodPost)
		r.Handle("/portal/authorizations/{authorization}/revoke", lim.byAddress(portal.handleRevokeAuthorization())).Methods(http.MethodPost)
		r.Handle("/portal/accounting", lim.byAddress(portal.handleAccounting())).Methods(http.MethodGet)
	}

	v1 := r.PathPrefix("/v1").Subrouter()
	v1.Use(authenticate(verifier, logger), budgetDependencies)
	v1.Handle("/me", handleMe()).Methods(http.MethodGet)
	v1.Handle("/clinic", handleGetClinic(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clinic/jurisdiction", handleSetJurisdiction(logger, svc)).Methods(http.MethodPut)
	v1.Handle("/clinic/profile", handleSetClinicProfile(logger, svc)).Methods(http.MethodPut)

	v1.Handle("/keys/{category}/rotate", handleRotateKey(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/keys/{category}/rewrap", handleRewrapKeys(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/keys/{category}/retire", handleRetireKeyVersions(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/maintenance/sweep-uploads", handleSweepUploads(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/audit/verify", handleVerifyAuditTrail(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/audit/losses", handleAcknowledgeAuditLoss(logger, svc)).Methods(http.MethodPost)

	v1.Handle("/clinicians", handleListClinicians(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clinicians/{subject}", handlePutClinician(logger, svc)).Methods(http.MethodPut)
	v1.Handle("/clinicians/{subject}", handleRemoveClinician(logger, svc)).Methods(http.MethodDelete)

	v1.Handle("/clients", handleCreateClient(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients", handleListClients(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/search", handleFindClients(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}", handleGetClient(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/care-team", handleSetCareTeam(logger, svc)).Methods(http.MethodPut)
	v1.Handle("/clients/{client}/account", handleLinkAccount(logger, svc)).Methods(http.MethodPut)
	v1.Handle("/clients/{client}/representatives/{subject}", handleLinkRepresentative(logger, svc)).Methods(http.MethodPut)
	v1.Handle("/clients/{client}/representatives/{subject}", handleUnlinkRepresentative(logger, svc)).Methods(http.MethodDelete)

	v1.Handle("/clients/{client}/records", handleCreateRecord(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/records", handleListRecords(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/records/{record}", handleGetRecord(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/records/{record}", handleUpdateRecord(logger, svc)).Methods(http.MethodPut)
	v1.Handle("/clients/{client}/records/{record}/sign", handleSignRecord(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/records/{record}/addenda", handleAddAddendum(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/records/{record}/amendments", handleRequestAmendment(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/records/{record}/amendments/{amendment}/extension", handleExtendAmendment(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/records/{record}/amendments/{amendment}/decision", handleDecideAmendment(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/records/{record}/amendments/{amendment}/disagreement", handleRecordDisagreement(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/records/{record}/amendments/{amendment}/rebuttal", handleRebutDisagreement(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/records/{record}/amendments/{amendment}/recipients", handleAmendmentRecipients(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/amendments/overdue", handleOverdueAmendments(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/records/{record}/attachments", handleAddAttachment(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/records/{record}/attachments/{attachment}", handleGetAttachment(logger, svc)).Methods(http.MethodGet, http.MethodHead)

	v1.Handle("/clients/{client}/authorizations", handleAddAuthorization(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/authorizations", handleListAuthorizations(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/authorizations/{authorization}/revoke", handleRevokeAuthorization(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/releases", handleCreateRelease(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/releases", handleListReleases(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/releases/{release}", handleGetRelease(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/releases/{release}/review", handleReviewDenial(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/releases/{release}/resolve", handleResolveRelease(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/releases/{release}/tokens", handleIssueToken(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/releases/{release}/revoke", handleRevokeRelease(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/accounting", handleAccounting(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/accounting/suspensions", handleSuspendAccounting(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/accounting/suspensions", handleListSuspensions(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/court-orders", handleCreateCourtOrder(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/court-orders/{order}", handleGetCourtOrder(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/court-orders/verify", handleVerifyManifest(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/certifications/{code}", handleVerifyCertification(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/access-requests", handleCreateAccessRequest(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/access-requests", handleListAccessRequests(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/clients/{client}/access-requests/{request}/extension", handleExtendAccessRequest(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/clients/{client}/access-requests/{request}/answer", handleAnswerAccessRequest(logger, svc)).Methods(http.MethodPost)
	v1.Handle("/access-requests/overdue", handleOverdueAccessRequests(logger, svc)).Methods(http.MethodGet)
	v1.Handle("/waiting", handleWaiting(logger, svc)).Methods(http.MethodGet)
}
