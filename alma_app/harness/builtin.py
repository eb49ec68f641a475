"""The six pre-built domain schemas, as plain config mappings.

They go through the same validation as user schemas (DomainMemoryFactory.create_schema), so a
mistake here fails the test suite rather than a user's run. Each entity type lists its
attributes; each relationship names a source and a target entity type; learning categories
become the `can_learn` scope of the domain's agents.
"""

from __future__ import annotations

from typing import Any


def _e(name: str, description: str, *attributes: str) -> dict[str, Any]:
    return {"name": name, "description": description, "attributes": list(attributes)}


def _r(name: str, source: str, target: str, description: str) -> dict[str, Any]:
    return {"name": name, "source_type": source, "target_type": target, "description": description}


BUILTIN: dict[str, dict[str, Any]] = {
    "coding": {
        "description": "Software development and testing: features, bugs, tests and APIs.",
        "entity_types": [
            _e("feature", "A user-facing capability", "status", "priority", "owner"),
            _e("bug", "A defect to reproduce and fix", "severity", "status", "steps_to_reproduce"),
            _e("test", "An automated check", "kind", "status", "flaky"),
            _e("component", "A module, service or page", "path", "language"),
            _e("api_endpoint", "An HTTP endpoint", "method", "path", "auth"),
        ],
        "relationship_types": [
            _r("covers", "test", "feature", "the test checks the feature"),
            _r("reproduces", "test", "bug", "the test fails while the bug exists"),
            _r("affects", "bug", "component", "where the bug lives"),
            _r("implements", "component", "feature", "the code behind a feature"),
            _r("exposes", "component", "api_endpoint", "the service serving an endpoint"),
            _r("depends_on", "component", "component", "a build or runtime dependency"),
        ],
        "learning_categories": [
            "testing_strategies",
            "selector_patterns",
            "form_validation",
            "accessibility_checks",
            "api_patterns",
            "database_queries",
            "error_handling",
            "performance_tuning",
            "debugging",
        ],
        "agents": ["helena", "victor"],
    },
    "research": {
        "description": "Literature and empirical research: sources, hypotheses and findings.",
        "entity_types": [
            _e("paper", "A published source", "title", "authors", "year", "venue"),
            _e("hypothesis", "A claim under investigation", "statement", "status", "confidence"),
            _e("experiment", "A study or analysis run", "method", "result", "sample_size"),
            _e("dataset", "Data used as evidence", "source", "size", "license"),
            _e("finding", "A result with its evidence", "claim", "evidence_strength"),
        ],
        "relationship_types": [
            _r("cites", "paper", "paper", "one source builds on another"),
            _r("reports", "paper", "finding", "where a finding was published"),
            _r("supports", "finding", "hypothesis", "evidence for"),
            _r("contradicts", "finding", "hypothesis", "evidence against"),
            _r("tests", "experiment", "hypothesis", "the experiment examines the hypothesis"),
            _r("uses", "experiment", "dataset", "data the experiment relies on"),
        ],
        "learning_categories": [
            "literature_search",
            "source_evaluation",
            "summarisation",
            "methodology",
            "data_analysis",
            "hypothesis_formation",
            "citation_tracking",
        ],
        "min_occurrences_for_heuristic": 2,
        "agents": ["researcher"],
    },
    "sales": {
        "description": "B2B sales: leads, objections, deals and the conversations around them.",
        "entity_types": [
            _e("lead", "A prospective customer", "stage", "value", "source"),
            _e("contact", "A person at a lead or customer", "role", "company", "seniority"),
            _e("objection", "A reason given not to buy", "type", "response"),
            _e("deal", "An opportunity in the pipeline", "amount", "stage", "close_date"),
            _e("product", "What is being sold", "name", "price", "plan"),
        ],
        "relationship_types": [
            _r("works_at", "contact", "lead", "the contact's organisation"),
            _r("raised", "contact", "objection", "who raised an objection"),
            _r("converted_to", "lead", "deal", "a qualified lead's opportunity"),
            _r("includes", "deal", "product", "products in a deal"),
        ],
        "learning_categories": [
            "objection_handling",
            "closing_techniques",
            "qualification_patterns",
            "outreach_timing",
            "pricing_negotiation",
            "follow_up_cadence",
        ],
        "agents": ["sales_agent"],
    },
    "general": {
        "description": "A general-purpose assistant: tasks, notes, resources and people.",
        "entity_types": [
            _e("task", "Something to get done", "status", "priority", "due"),
            _e("note", "Information worth keeping", "topic", "source"),
            _e("resource", "A document, link or tool", "url", "kind"),
            _e("person", "Someone involved", "role", "contact"),
        ],
        "relationship_types": [
            _r("uses", "task", "resource", "what a task needs"),
            _r("assigned_to", "task", "person", "who does it"),
            _r("about", "note", "task", "context for a task"),
        ],
        "learning_categories": [
            "task_planning",
            "communication",
            "tool_usage",
            "information_retrieval",
            "general",
        ],
        "agents": ["assistant"],
    },
    "customer_support": {
        "description": "Customer support: tickets, issues, resolutions and the knowledge base.",
        "entity_types": [
            _e("ticket", "A customer request", "priority", "status", "channel", "category"),
            _e("customer", "Who asked", "tier", "product", "region"),
            _e("issue", "The underlying problem", "category", "severity", "known"),
            _e("resolution", "What fixed it", "steps", "time_to_resolve"),
            _e("kb_article", "A knowledge-base article", "title", "topic", "last_reviewed"),
        ],
        "relationship_types": [
            _r("raised_by", "ticket", "customer", "the requester"),
            _r("about", "ticket", "issue", "the problem behind a ticket"),
            _r("resolved_by", "issue", "resolution", "a fix that worked"),
            _r("documented_in", "resolution", "kb_article", "where the fix is written up"),
        ],
        "learning_categories": [
            "issue_diagnosis",
            "troubleshooting_steps",
            "de_escalation",
            "escalation_criteria",
            "response_templates",
            "product_knowledge",
        ],
        "agents": ["support_agent"],
    },
    "content_creation": {
        "description": "Writing and publishing: pieces, audiences, topics and their results.",
        "entity_types": [
            _e("piece", "An article, post, video or newsletter", "format", "status", "channel"),
            _e("audience", "Who it is for", "segment", "interests"),
            _e("topic", "What it is about", "keywords", "search_volume"),
            _e("style_guide", "House rules for voice and form", "tone", "rules"),
            _e("performance", "How a piece did", "views", "engagement", "conversions"),
        ],
        "relationship_types": [
            _r("targets", "piece", "audience", "intended readers"),
            _r("covers", "piece", "topic", "subject of the piece"),
            _r("follows", "piece", "style_guide", "the rules applied"),
            _r("measured_by", "piece", "performance", "its results"),
        ],
        "learning_categories": [
            "headline_writing",
            "audience_targeting",
            "tone_and_style",
            "seo_optimization",
            "content_structure",
            "distribution_timing",
        ],
        "agents": ["writer"],
    },
}
