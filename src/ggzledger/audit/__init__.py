"""What an auditor asks: reconstruction and verification of issued declarations, and reports from the views."""
