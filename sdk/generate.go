package sdk

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../docs/openapi.yaml
