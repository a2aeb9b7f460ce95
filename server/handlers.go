package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
)

// InferenceRequest is the body of POST /v1/inference, as in the deployment
// guide, plus the optional decoding fields.
type InferenceRequest struct {
	Model string `json:"model"`
	// Task is caption, ocr or vqa.
	Task string `json:"task"`
	// Image is base64 or a data URI of a JPEG, PNG or WebP image.
	Image string `json:"image"`
	// Question is required for vqa and an optional instruction otherwise.
	Question string `json:"question"`
	api.SamplingParams
}

// InferenceResponse is the answer of POST /v1/inference.
type InferenceResponse struct {
	ID           string    `json:"id"`
	Model        string    `json:"model"`
	Task         string    `json:"task"`
	Text         string    `json:"text"`
	FinishReason string    `json:"finish_reason"`
	Cached       bool      `json:"cached"`
	Usage        api.Usage `json:"usage"`
	Timings      Timings   `json:"timings"`
}

// Timings are in milliseconds.
type Timings struct {
	QueueMS       float64 `json:"queue_ms"`
	ImageEncodeMS float64 `json:"image_encode_ms"`
	PrefillMS     float64 `json:"prefill_ms"`
	DecodeMS      float64 `json:"decode_ms"`
	TotalMS       float64 `json:"total_ms"`
}

// inference serves POST /v1/inference.
func (s *Server) inference(c *gin.Context) {
	var req InferenceRequest
	if err := api.DecodeJSON(c.Request.Body, &req); err != nil {
		s.fail(c, err)
		return
	}
	gen, err := s.nativeRequest(req)
	if err != nil {
		s.fail(c, err)
		return
	}
	comp, err := s.generate(c, gen, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	res := comp.Result
	c.JSON(http.StatusOK, InferenceResponse{
		ID:           c.GetString(keyRequestID),
		Model:        comp.Model,
		Task:         string(gen.Task),
		Text:         res.Text,
		FinishReason: res.FinishReason,
		Cached:       comp.Cached,
		Usage:        res.Usage(),
		Timings: Timings{
			QueueMS:       ms(comp.QueueWait.Seconds()),
			ImageEncodeMS: ms(res.Timings.ImageEncode.Seconds()),
			PrefillMS:     ms(res.Timings.Prefill.Seconds()),
			DecodeMS:      ms(res.Timings.Decode.Seconds()),
			TotalMS:       ms(comp.Total.Seconds()),
		},
	})
}

func ms(seconds float64) float64 { return seconds * 1000 }

// nativeRequest validates a native request and turns it into a
// GenerateRequest; errors are 400s.
func (s *Server) nativeRequest(req InferenceRequest) (api.GenerateRequest, error) {
	task, err := api.ParseTask(req.Task)
	if err != nil {
		return api.GenerateRequest{}, err
	}
	if task == api.TaskChat {
		return api.GenerateRequest{}, api.BadRequest("invalid_task", "chat goes to POST /v1/chat/completions")
	}
	if task == api.TaskVQA && req.Question == "" {
		return api.GenerateRequest{}, api.BadRequest("missing_question", "vqa needs a question")
	}
	sampling, err := req.SamplingParams.Resolve(s.limits)
	if err != nil {
		return api.GenerateRequest{}, err
	}
	data, err := api.DecodeImageString(req.Image)
	if err != nil {
		return api.GenerateRequest{}, api.Within(err, "image")
	}
	im, err := api.ParseImage(data, s.limits.MaxImagePixels)
	if err != nil {
		return api.GenerateRequest{}, api.Within(err, "image")
	}
	return api.GenerateRequest{Model: req.Model, Task: task, Prompt: req.Question,
		Images: []*api.Image{im}, Sampling: sampling}, nil
}

// health serves GET /health: the process is alive.
func (s *Server) health(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// ready serves GET /ready: 200 once the engine is loaded and warmed, 503
// before that and while draining; the body also says where the engine
// computes (Options.Backend).
func (s *Server) ready(c *gin.Context) {
	body := gin.H{"status": "ready"}
	if s.backend.Device != "" {
		body["device"], body["kernels"] = s.backend.Device, s.backend.Kernels
	}
	code := http.StatusOK
	switch {
	case s.draining.Load():
		code, body["status"] = http.StatusServiceUnavailable, "draining"
	case !s.engine.Ready():
		code, body["status"] = http.StatusServiceUnavailable, "loading"
	}
	c.JSON(code, body)
}
