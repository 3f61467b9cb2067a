"""General state statements: (entity, attribute, value) read from a clause's structure,
not from a domain's phrasing, each with the rule that fired.

`memos.agents.patterns` knows tickets, assignees, launches and people's homes. This reader
knows how *any* tracked value is written down, whatever it is about:

* a field line: `Hiring manager: Paul Okafor`, `Openings: 2`, `Rollout: 5% -> 25%`;
* a change: `X changed from A to B`, `the v1 sunset is pushed to September 30`,
  `rolled strict_auth back to 0%`, `the block has been extended to 70 rooms`;
* a copula over an attribute noun: `the v2 rate limit is 500 rpm`, `Keynote speaker
  confirmed - Dr. Ana Ruiz`, `our price for the buffet package is €42 per person`;
* a release: `Release quill-python 3.4.1`; a role: `Jonas Weber will give the keynote`,
  `I own REQ-118 from today`, `I'm taking over as incident lead`;
* a correction (`sorry, I meant March 24, not March 23`; `it's 143, not 134`): the new
  value of the state that held the mistaken one;
* a retraction (`scratch that, we're staying at Harbor Hall`): the value a recent change
  replaced, back on its key.

A clause names its attribute with a noun ("rate limit", "start date", "hiring manager")
or, when it names none, its value's kind says it (a percentage is a rollout, a date a
date, an amount a price). A clause that names no subject takes it from what the reader
already knows (`Context`: the states the cube holds, newest first) -- the subject that
has this attribute, or a value of this kind -- or from what the event is about.
Hedges, questions, conditions, quoted lines and proposals state nothing.

The rules live in small modules of this package, which share their underscore helpers
with one another (nothing outside the package does):

* `vocabulary`: the words every rule shares (attribute nouns, change verbs, hedges);
* `context`: `Reading`, `Known`, `Context` and the subject/attribute/value comparisons;
* `phrases`: noun phrases and values inside a clause;
* `shapes`: record and list shapes (fields, prices per unit, descriptions of status);
* `clause`: `read_clause`, the verb and copula rules over one clause;
* `polarity`: hedges, negations, corrections and retractions;
* `subjects`: a reading's subject and attribute, from the clause or the context;
* `general`: `general_states`, a message read into `State`s.
"""

from memos.agents.statements.clause import clauses, says_change
from memos.agents.statements.context import Context, Known, Reading, same_attribute
from memos.agents.statements.general import general_states
from memos.agents.statements.polarity import stated_nothing
from memos.agents.statements.vocabulary import is_role

__all__ = [
    "Context",
    "Known",
    "Reading",
    "clauses",
    "general_states",
    "is_role",
    "same_attribute",
    "says_change",
    "stated_nothing",
]
