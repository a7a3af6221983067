"""Facts of the LangSmith API the emulator answers with."""

SERVER_VERSION = "0.16.14"  # the SDK opens client.annotation_queues (the items API) from 0.16.14
# Path prefixes of API requests (counted and limited); the rest (admin routes, the viewer) is not.
API_PREFIXES = (
    "/info",
    "/runs",
    "/sessions",
    "/feedback",
    "/feedback-configs",
    "/api/",
    "/settings",
    "/model-price-map",
    "/public",
    "/datasets",
    "/examples",
    "/annotation-queues",
    "/charts",
    "/platform/",
    "/v1/platform/",
)
# Documented LangSmith Cloud limits per API key (docs.langchain.com/langsmith/cloud, "API rate limits").
STATS_LIMIT_ENV = "LANGSMITH_SANDBOX_STATS_LIMIT"  # "N/SECONDS", e.g. "20/10" (the EU figure)
