"""Request and response bodies of the HTTP API, one module per resource.

| Module | Bodies of |
|---|---|
| `common` | every request: `RequestStr` (a string the service can store), strict reading |
| `jobs` | POST /tts (`JobIn`, `BlockIn`) and its answers; the limits the schema quotes |
| `status` | GET /status/{id}, GET /jobs |
| `results` | GET /result/{id} |
| `timings` | GET /result/{id}/timings |
| `webhooks` | GET /webhooks/secret, a job's webhook delivery |
| `catalog` | GET /tts/providers, GET /tts/voices/{provider} |
| `accounts` | /accounts (`AccountIn`: a provider account of one's own) |
| `keys` | /keys |
| `auth` | POST /token |
| `speech` | OpenAI's speech API under /v1/ |

Import a body from its module (`from api.schemas.jobs import JobIn`): this package re-exports
nothing, so each name has one place to be found.
"""
