// Package deploy holds no Go code: its test renders the Helm chart in helm/recordvault with
// Helm's own library and decodes every document strictly into the Kubernetes API's types, so
// a field Kubernetes would ignore or refuse fails here, not at an operator's install.
package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/recordvault/recordvault/config"
)

const chartDir = "helm/recordvault"

// production is what an operator sets on install: the rest are the chart's defaults.
func production() map[string]any {
	return map[string]any{
		"clinics": []any{"northside", "riverside"},
		"oidc":    map[string]any{"issuer": "https://id.example.org/realms/clinic"},
		"tls":     map[string]any{"secretName": "recordvault-tls"},
		"smtp": map[string]any{"addr": "smtp.example.org:587", "from": "records@example.org", "user": "records",
			"passwordSecret": map[string]any{"name": "recordvault-smtp", "key": "password"}},
		"vault": map[string]any{"setup": map[string]any{"adminTokenSecret": "vault-admin"}},
	}
}

// objects are the rendered chart's documents, decoded strictly, by kind.
type objects struct {
	deployments  []appsv1.Deployment
	statefulSets []appsv1.StatefulSet
	jobs         []batchv1.Job
	services     []corev1.Service
	accounts     []corev1.ServiceAccount
	configMaps   []corev1.ConfigMap
	budgets      []policyv1.PodDisruptionBudget
	policies     []networkingv1.NetworkPolicy
	bindings     []rbacv1.ClusterRoleBinding
}

// decodeStrict decodes one document into a new T, refusing any field T does not have.
func decodeStrict[T any](doc []byte, into *[]T) error {
	var v T
	if err := yaml.UnmarshalStrict(doc, &v); err != nil {
		return err
	}
	*into = append(*into, v)
	return nil
}

// render renders the chart with values as release "recordvault" in namespace "records".
func render(values map[string]any) (*objects, error) {
	chrt, err := loader.LoadDir(chartDir)
	if err != nil {
		return nil, err
	}
	vals, err := chartutil.ToRenderValues(chrt, values, common.ReleaseOptions{Name: "recordvault", Namespace: "records", IsInstall: true}, nil)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		return nil, err
	}
	o := &objects{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if path.Ext(name) != ".yaml" {
			continue
		}
		r := yamlutil.NewDocumentDecoder(io.NopCloser(strings.NewReader(files[name])))
		buf := make([]byte, 1<<20)
		for {
			n, err := r.Read(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			doc := bytes.TrimSpace(buf[:n])
			if len(doc) == 0 || bytes.Equal(doc, []byte("---")) {
				continue
			}
			if err := o.add(doc); err != nil {
				return nil, fmt.Errorf("%s: %w\n%s", name, err, doc)
			}
		}
	}
	return o, nil
}

func (o *objects) add(doc []byte) error {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return err
	}
	switch head.APIVersion + " " + head.Kind {
	case "apps/v1 Deployment":
		return decodeStrict(doc, &o.deployments)
	case "apps/v1 StatefulSet":
		return decodeStrict(doc, &o.statefulSets)
	case "batch/v1 Job":
		return decodeStrict(doc, &o.jobs)
	case "v1 Service":
		return decodeStrict(doc, &o.services)
	case "v1 ServiceAccount":
		return decodeStrict(doc, &o.accounts)
	case "v1 ConfigMap":
		return decodeStrict(doc, &o.configMaps)
	case "policy/v1 PodDisruptionBudget":
		return decodeStrict(doc, &o.budgets)
	case "networking.k8s.io/v1 NetworkPolicy":
		return decodeStrict(doc, &o.policies)
	case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
		return decodeStrict(doc, &o.bindings)
	}
	// A Secret among them would be a secret in a manifest; anything else is untested.
	return fmt.Errorf("a %s %s the test does not know", head.APIVersion, head.Kind)
}

// pods are every pod template of the chart, by workload name.
func (o *objects) pods() map[string]corev1.PodSpec {
	pods := map[string]corev1.PodSpec{}
	for _, d := range o.deployments {
		pods[d.Name] = d.Spec.Template.Spec
	}
	for _, s := range o.statefulSets {
		pods[s.Name] = s.Spec.Template.Spec
	}
	for _, j := range o.jobs {
		pods[j.Name] = j.Spec.Template.Spec
	}
	return pods
}

func TestChartLints(t *testing.T) {
	result := lint.RunAll(chartDir, production(), "records")
	for _, m := range result.Messages {
		if m.Severity >= support.WarningSev {
			t.Error(m)
		}
	}
}

func TestChartRendersStrictly(t *testing.T) {
	o, err := render(production())
	if err != nil {
		t.Fatal(err)
	}
	if len(o.deployments) != 1 || len(o.statefulSets) != 2 || len(o.jobs) != 2 {
		t.Fatalf("%d deployments, %d stateful sets, %d jobs; want the service, Vault and MinIO, two setup jobs",
			len(o.deployments), len(o.statefulSets), len(o.jobs))
	}

	service := o.deployments[0]
	if *service.Spec.Replicas < 2 {
		t.Errorf("the service runs %d replicas; want two at least", *service.Spec.Replicas)
	}
	c := service.Spec.Template.Spec.Containers[0]
	for name, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("the service's %s probe: %+v; want an HTTPS check (TLS is on)", name, probe)
		}
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes check %s and %s", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	checkServiceEnv(t, c.Env)

	byName := map[string]appsv1.StatefulSet{}
	for _, s := range o.statefulSets {
		byName[s.Name] = s
	}
	vault, minio := byName["recordvault-vault"], byName["recordvault-minio"]
	if vault.Spec.Replicas == nil || *vault.Spec.Replicas != 3 || minio.Spec.Replicas == nil || *minio.Spec.Replicas != 4 {
		t.Fatalf("stateful sets %v; want recordvault-vault ×3 and recordvault-minio ×4", slices.Collect(maps.Keys(byName)))
	}
	var vaultHCL string
	for _, cm := range o.configMaps {
		if cm.Name == "recordvault-vault-config" {
			vaultHCL = cm.Data["vault.hcl"]
		}
	}
	if !strings.Contains(vaultHCL, `storage "raft"`) || strings.Count(vaultHCL, "retry_join") != 3 || !strings.Contains(vaultHCL, "tls_cert_file") || strings.Contains(vaultHCL, "tls_disable") {
		t.Errorf("Vault's configuration is not Raft over TLS joining three nodes:\n%s", vaultHCL)
	}
	if args := strings.Join(minio.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "https://recordvault-minio-{0...3}.recordvault-minio-internal.records.svc/data") {
		t.Errorf("MinIO's nodes are not the four of one erasure set over TLS: %s", args)
	}

	for name, pod := range o.pods() {
		checkHardened(t, name, pod)
	}
	budgets := map[string]bool{}
	for _, b := range o.budgets {
		budgets[b.Name] = true
		if b.Spec.MaxUnavailable == nil && b.Spec.MinAvailable == nil {
			t.Errorf("%s: a disruption budget that bounds nothing", b.Name)
		}
	}
	policies := map[string]networkingv1.NetworkPolicy{}
	for _, p := range o.policies {
		policies[p.Name] = p
	}
	for _, w := range []string{"recordvault", "recordvault-vault", "recordvault-minio"} {
		if !budgets[w] {
			t.Errorf("%s has no PodDisruptionBudget", w)
		}
		p, ok := policies[w]
		if !ok || !slices.Equal(p.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
			t.Errorf("%s: NetworkPolicy %+v; want one restricting ingress and egress", w, p.Spec.PolicyTypes)
		}
	}
	// MinIO and Vault answer the service, the setup jobs and each other only.
	for _, w := range []string{"recordvault-vault", "recordvault-minio"} {
		for _, rule := range policies[w].Spec.Ingress {
			for _, peer := range rule.From {
				if peer.PodSelector == nil || peer.NamespaceSelector != nil || peer.IPBlock != nil {
					t.Errorf("%s takes traffic from %+v", w, peer)
				}
			}
		}
	}
}

// checkServiceEnv: every variable the service is given is a setting of docs/CONFIGURATION.md,
// and every secret among them comes from a file (a mounted Secret), never a value.
func checkServiceEnv(t *testing.T, env []corev1.EnvVar) {
	t.Helper()
	settings := map[string]config.Setting{}
	for _, s := range config.Settings {
		settings[s.Name] = s
	}
	for _, e := range env {
		name, fromFile := strings.CutSuffix(e.Name, "_FILE")
		s, ok := settings[name]
		if !ok || fromFile && !s.Secret {
			if s, ok = settings[e.Name]; !ok {
				t.Errorf("the service is given %s, which is no setting", e.Name)
				continue
			}
		}
		if s.Secret && !fromFile {
			t.Errorf("the secret %s is given as a value; want %s_FILE", e.Name, e.Name)
		}
		if e.ValueFrom != nil {
			t.Errorf("%s comes from %+v; the service reads secrets from files", e.Name, e.ValueFrom)
		}
	}
	for _, want := range []string{"VAULT_KUBERNETES_ROLE", "RECORDVAULT_S3_SECRET_KEY_FILE", "RECORDVAULT_TLS_CERT_FILE", "RECORDVAULT_AUDIT_RETENTION_DAYS"} {
		if !slices.ContainsFunc(env, func(e corev1.EnvVar) bool { return e.Name == want }) {
			t.Errorf("the service is not given %s", want)
		}
	}
	for _, e := range env {
		if e.Name == config.Development || e.Name == "VAULT_TOKEN" {
			t.Errorf("the service is given %s", e.Name)
		}
	}
}

// checkHardened: not root, a read-only root, no privilege escalation, no capability, and
// resources requested.
func checkHardened(t *testing.T, name string, pod corev1.PodSpec) {
	t.Helper()
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: pod may run as root: %+v", name, sc)
	}
	for _, c := range pod.Containers {
		s := c.SecurityContext
		switch {
		case s == nil:
			t.Errorf("%s/%s: no security context", name, c.Name)
		case s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem:
			t.Errorf("%s/%s: writable root file system", name, c.Name)
		case s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation:
			t.Errorf("%s/%s: may escalate privileges", name, c.Name)
		case s.Capabilities == nil || !slices.Equal(s.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(s.Capabilities.Add) > 0:
			t.Errorf("%s/%s: capabilities %+v", name, c.Name, s.Capabilities)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: resources %+v; want CPU and memory requested, memory limited", name, c.Name, c.Resources)
		}
	}
}

// Values an install cannot work without are refused at render, naming what is missing.
func TestChartRefusesIncompleteValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(map[string]any)
		says   string
	}{
		{"no clinic", func(v map[string]any) { delete(v, "clinics") }, "clinics"},
		{"no OIDC issuer", func(v map[string]any) { v["oidc"] = map[string]any{"issuer": ""} }, "oidc.issuer"},
		{"Vault without quorum", func(v map[string]any) { v["vault"] = map[string]any{"replicas": 1} }, "vault.replicas"},
		{"MinIO without erasure coding", func(v map[string]any) { v["minio"] = map[string]any{"replicas": 2} }, "minio.replicas"},
		{"Vault without TLS", func(v map[string]any) { v["vault"] = map[string]any{"tlsSecret": ""} }, "vault.tlsSecret"},
	} {
		values := production()
		tc.change(values)
		if _, err := render(values); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v; want a refusal naming %s", tc.name, err, tc.says)
		}
	}
}

// Without the administrator's token Secret the Vault setup job is left out (Vault is not yet
// initialised on a first install); the MinIO setup runs on the root Secret.
func TestChartVaultSetupNeedsAdminToken(t *testing.T) {
	values := production()
	delete(values, "vault")
	o, err := render(values)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.jobs) != 1 || o.jobs[0].Name != "recordvault-minio-setup" {
		t.Fatalf("jobs %v; want the MinIO setup alone", o.jobs)
	}
	if got := o.deployments[0].Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Port; got != intstr.FromString("http") {
		t.Errorf("readiness on port %v", got)
	}
}
