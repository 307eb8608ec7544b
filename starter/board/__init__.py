"""The board: a read-only web page of what needs attention, and the iCalendar feed."""
