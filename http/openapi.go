package http

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// The OpenAPI 3.1 document is generated from the route table and the Go
// types of request and response bodies, so it cannot drift from the code.

var (
	openAPIOnce sync.Once
	openAPIDoc  map[string]any
)

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.OpenAPI())
}

// OpenAPI returns the OpenAPI 3.1 document of the API.
func (s *Server) OpenAPI() map[string]any {
	openAPIOnce.Do(func() { openAPIDoc = buildOpenAPI(s.routes()) })
	return openAPIDoc
}

func buildOpenAPI(routes []route) map[string]any {
	schemas := map[string]any{}
	paths := map[string]any{}
	errorSchema := schemaOf(reflect.TypeOf(errorResponse{}), schemas)
	for _, rt := range routes {
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt),
			"description": "Roles: " + rolesText(rt),
			"security":    []any{map[string]any{"bearer": []any{}}},
		}
		var params []any
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		query := rt.Query
		if rt.Paged {
			query = append(slices.Clone(query), pageQuery...)
		}
		for _, q := range query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": q.Type}})
		}
		for _, h := range rt.Headers {
			params = append(params, map[string]any{"name": h.Name, "in": "header", "description": h.Description, "schema": map[string]any{"type": h.Type}})
		}
		params = append(params, map[string]any{"name": "X-Huella-Purpose", "in": "header",
			"description": "purpose of the call, recorded in the audit trail (default by role)", "schema": map[string]any{"type": "string"}})
		op["parameters"] = params
		if rt.Request != nil {
			body := schemaOf(reflect.TypeOf(rt.Request), schemas)
			if rt.Multipart {
				op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{
					"schema": map[string]any{"type": "object", "required": []string{"encounter"},
						"properties":           map[string]any{"encounter": body},
						"additionalProperties": map[string]any{"type": "string", "contentMediaType": "application/octet-stream", "description": "an image part, named by a sample's \"image\" field"}},
				}}}
			} else {
				op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": body}}}
			}
		}
		if rt.RawRequest != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{rt.RawRequest: map[string]any{
				"schema": map[string]any{"type": "string", "contentMediaType": rt.RawRequest}}}}
		}
		okStatus := "200"
		if rt.Method == "POST" {
			okStatus = "201"
		}
		ok := map[string]any{"description": "success"}
		switch {
		case rt.Response != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Response), schemas)}}
			if rt.Paged {
				ok["headers"] = map[string]any{"Link": map[string]any{"description": "when more items follow: <URL>; rel=\"next\", the next page (RFC 8288)",
					"schema": map[string]any{"type": "string"}}}
			}
		case rt.RawResponse != "":
			ok["content"] = map[string]any{rt.RawResponse: map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": rt.RawResponse}}}
		}
		errResp := map[string]any{"description": "error: an RFC 9457 problem with Huella's code", "content": map[string]any{problemContentType: map[string]any{"schema": errorSchema}}}
		op["responses"] = map[string]any{okStatus: ok, "4XX": errResp, "5XX": errResp}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	for _, p := range []struct{ path, id, summary, contentType string }{
		{"/healthz", "getHealthz", "Liveness: the process answers", "text/plain"},
		{"/readyz", "getReadyz", "Readiness: store reachable and galleries loaded; the build serving", "application/json"},
		{"/metrics", "getMetrics", "Prometheus metrics", "text/plain"},
		{"/openapi.json", "getOpenAPI", "This document", "application/json"},
		{"/.well-known/jwks.json", "getJWKS", "Our public keys for partners to verify signed deliveries (JWK Set, RFC 7517); served when forwarding runs", "application/json"},
	} {
		// A wrong method is a 405 problem here too, and /metrics wants its
		// token when one is set.
		responses := map[string]any{"200": map[string]any{"description": "success",
			"content": map[string]any{p.contentType: map[string]any{"schema": map[string]any{}}}},
			"4XX": map[string]any{"description": "error: an RFC 9457 problem with Huella's code (405 for a wrong method)",
				"content": map[string]any{problemContentType: map[string]any{"schema": errorSchema}}}}
		if p.path == "/readyz" {
			responses["503"] = map[string]any{"description": "not ready: store unreachable or galleries loading",
				"content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
		}
		paths[p.path] = map[string]any{"get": map[string]any{"summary": p.summary, "operationId": p.id,
			"description": "Service endpoint, no authentication.", "security": []any{}, "responses": responses}}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Huella ABIS API", "version": "1",
			"license":     map[string]any{"name": "Apache License 2.0", "identifier": "Apache-2.0"},
			"description": "Enrollment, identification and records of a multimodal automated biometric identification system. Every read of personal data is audited."},
		"servers": []any{map[string]any{"url": "/", "description": "the server that serves this document"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "API token from `huella user add`"}},
		},
	}
}

func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, seg := range strings.Split(rt.Path, "/") {
		if seg == "" || seg == "v1" {
			continue
		}
		for _, word := range strings.Split(strings.Trim(seg, "{}"), "-") {
			if word != "" {
				b.WriteString(strings.ToUpper(word[:1]) + word[1:])
			}
		}
	}
	return b.String()
}

func rolesText(rt route) string {
	names := make([]string, len(rt.Roles))
	for i, r := range rt.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

var timeType = reflect.TypeOf(time.Time{})

// schemaOf returns the JSON Schema of t, registering named structs under
// components/schemas and referring to them.
func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		return schemaOf(t.Elem(), schemas)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return map[string]any{"type": "string", "contentEncoding": "base64"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), schemas)}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return map[string]any{"type": "number"}
	case t.Kind() == reflect.Struct:
		name := t.Name()
		if name == "" {
			name = "Anonymous"
		}
		name = strings.ToUpper(name[:1]) + name[1:]
		ref := map[string]any{"$ref": "#/components/schemas/" + name}
		if _, ok := schemas[name]; ok {
			return ref
		}
		schemas[name] = map[string]any{} // placeholder against recursion
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if !f.IsExported() || tag == "-" {
				continue
			}
			fname, opts, _ := strings.Cut(tag, ",")
			if fname == "" {
				fname = f.Name
			}
			props[fname] = schemaOf(f.Type, schemas)
			if !strings.Contains(opts, "omitempty") {
				required = append(required, fname)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		schemas[name] = s
		return ref
	default:
		return map[string]any{}
	}
}
