package server_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// routeRE matches a route registration in server.go: mux.Handle or
// mux.HandleFunc with a "METHOD /path" pattern.
var routeRE = regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+) (/[^"]*)"`)

type openAPIDoc struct {
	OpenAPI string                    `yaml:"openapi" json:"openapi"`
	Paths   map[string]map[string]any `yaml:"paths" json:"paths"`
}

// operations lists "METHOD /path" for every operation of the document.
func (d openAPIDoc) operations() []string {
	var ops []string
	for p, item := range d.Paths {
		for m := range item {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				ops = append(ops, strings.ToUpper(m)+" "+p)
			}
		}
	}
	slices.Sort(ops)
	return ops
}

// TestOpenAPICoversRoutes checks that openapi.yaml describes exactly the
// /v1 routes that server.go registers, and that the server serves it as
// YAML and as JSON.
func TestOpenAPICoversRoutes(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, m := range routeRE.FindAllStringSubmatch(string(src), -1) {
		if strings.HasPrefix(m[2], "/v1/") {
			routes = append(routes, m[1]+" "+m[2])
		}
	}
	slices.Sort(routes)
	if len(routes) < 10 {
		t.Fatalf("found only %d /v1 routes in server.go: %q", len(routes), routes)
	}

	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	ops := doc.operations()
	for _, r := range routes {
		if !slices.Contains(ops, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, o := range ops {
		if !slices.Contains(routes, o) {
			t.Errorf("openapi.yaml has %s, which server.go does not register", o)
		}
	}
	// Every operation answers something, and every $ref resolves.
	for p, item := range doc.Paths {
		for m, op := range item {
			if m == "parameters" {
				continue
			}
			if o, ok := op.(map[string]any); !ok || o["responses"] == nil {
				t.Errorf("%s %s has no responses", m, p)
			}
		}
	}
	var full map[string]any
	if err := yaml.Unmarshal(raw, &full); err != nil {
		t.Fatal(err)
	}
	for _, ref := range regexp.MustCompile(`\$ref: "#/([^"]+)"`).FindAllStringSubmatch(string(raw), -1) {
		var node any = full
		for _, part := range strings.Split(ref[1], "/") {
			mp, ok := node.(map[string]any)
			if !ok {
				node = nil
				break
			}
			node = mp[part]
		}
		if node == nil {
			t.Errorf("$ref #/%s does not resolve", ref[1])
		}
	}

	// Served as written, and as the same document in JSON.
	s := newTestServer(t)
	resp, body := do(t, httpc, "GET", s.URL()+"/v1/openapi.yaml", nil, "")
	if resp.StatusCode != 200 || body != string(raw) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("GET /v1/openapi.yaml = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, body = do(t, httpc, "GET", s.URL()+"/v1/openapi.json", nil, "")
	var jdoc openAPIDoc
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &jdoc) != nil {
		t.Fatalf("GET /v1/openapi.json = %d %.200s", resp.StatusCode, body)
	}
	if !slices.Equal(jdoc.operations(), ops) || jdoc.OpenAPI != doc.OpenAPI {
		t.Errorf("openapi.json differs from openapi.yaml: %q", jdoc.operations())
	}
}
