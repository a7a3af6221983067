"""Reports: KPI pages in Notion from LangSmith's aggregates, with charts, alerts, A/B verdicts and cost advice
(``publish.publish_report``)."""
