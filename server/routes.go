package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// routes builds the API's gin engine. Each group ends with recoverPanic, so
// a panic becomes a 500 that the logging and metrics middleware above it
// still see.
func (s *Server) routes() http.Handler {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.requestID, s.accessLog)

	r.GET("/health", s.recoverPanic, s.health)
	r.GET("/ready", s.recoverPanic, s.ready)

	v1 := r.Group("/v1")
	v1.GET("/models", s.authorize, s.recoverPanic, s.openai.ListModels)

	inference := v1.Group("", s.observe, s.authorize, s.limitBody, s.recoverPanic)
	inference.POST("/inference", s.inference)
	inference.POST("/chat/completions", s.openai.ChatCompletions)

	r.NoRoute(func(c *gin.Context) {
		s.fail(c, apiErr(http.StatusNotFound, "not_found", "no such endpoint"))
	})
	r.NoMethod(func(c *gin.Context) {
		s.fail(c, apiErr(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint"))
	})
	return r
}
