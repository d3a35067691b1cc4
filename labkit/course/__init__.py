"""The course: lesson helpers, exercises and quizzes, displays, student copies, the demo API.

What belongs here is what a *lesson* needs and a Cognito user would not: tables and diagrams that
explain, exercise checks with friendly messages, the deliberately vulnerable demo API and its
forgeries, ready-made set-ups that save ceremony when a lesson is about something else. It may
use :mod:`labkit.cognito` and :mod:`labkit.emulator`; neither of them uses it.

Each notebook's setup cell starts with::

    import labkit
    from labkit import course
    lab = labkit.new_lab(seed=NN)
    course.block_network()       # only 127.0.0.1 is reachable from this kernel
    course.friendly_errors()     # failed checks show as one friendly message, not a traceback

The names below are the ones notebooks reach as ``course.<name>``; everything else is imported
from its module (``from labkit.course.userpool import create_user_pool``).
"""
from .credentials import show_credentials
from .environment import EnvironmentProblem, NetworkBlocked, allow_network, block_network, check_environment, versions
from .exercises import friendly_errors
from .lessons import LESSONS, Lesson, lesson, total_minutes
from .maps import cognito_map, course_map

__all__ = ["EnvironmentProblem", "NetworkBlocked", "allow_network", "block_network", "check_environment",
           "versions", "friendly_errors", "LESSONS", "Lesson", "lesson", "total_minutes", "cognito_map",
           "course_map", "show_credentials"]
